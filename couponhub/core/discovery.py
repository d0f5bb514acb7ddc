"""Each app contributes optional modules by name (nav.py, demo.py, api.py): find them."""

from collections.abc import Iterable, Iterator
from importlib import import_module
from types import ModuleType

from django.apps import apps


def app_modules(module_name: str, app_names: Iterable[str] | None = None) -> Iterator[ModuleType]:
    """`<app>.<module_name>` of every app that has one, in INSTALLED_APPS (dependency) order
    unless `app_names` gives another; an import error inside such a module still raises."""
    names = app_names if app_names is not None else [c.name for c in apps.get_app_configs()]
    for app in names:
        try:
            yield import_module(f"{app}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.{module_name}":
                raise
