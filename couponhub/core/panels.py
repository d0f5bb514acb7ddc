"""The home page: a dashboard of panels for the user's roles instead of a row of menu tiles.

Each app lists its panels in its own `dashboard.py` as PANELS (as it lists menu entries in
nav.py). A panel names the roles it is for and a `build(request)` that returns what the shared
panel template shows — or None to stay hidden. Builders read cheap, indexed counts, the report
facts or a short-lived cached aggregate (`cached`), never a scan of a big table: the whole home
page stays well under 300 ms at the benchmark sizes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from django.core.cache import cache as django_cache

from couponhub.core.discovery import app_modules
from couponhub.core.permissions import roles_of, scope_paths


@dataclass(frozen=True)
class Stat:
    label: str
    value: object
    url: str = ""
    warn: bool = False  # shown as needing attention (a low balance, failed jobs)


@dataclass
class PanelData:
    stats: list[Stat] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    chart: str = ""  # a server-drawn SVG (reports.charts), safe
    note: str = ""
    link: tuple[str, str] | None = None  # (label, url) under the panel
    template: str = ""  # a panel's own template instead of the shared one


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    roles: tuple[str, ...]
    build: Callable[..., PanelData | None]
    order: int = 100


@cache
def all_panels() -> tuple[Panel, ...]:
    panels = [p for module in app_modules("dashboard") for p in module.PANELS]
    return tuple(sorted(panels, key=lambda p: p.order))


def panels_for(request) -> list[dict]:
    roles = roles_of(request.user)
    shown = []
    for panel in all_panels():
        if not roles.intersection(panel.roles):
            continue
        data = panel.build(request)
        if data is not None:
            shown.append({"key": panel.key, "title": panel.title, "data": data})
    return shown


def cached(key: str, user, perm: str, compute: Callable[[], object], seconds: int = 300):
    """An aggregate kept for `seconds`, per scope: two users with the same scope for `perm`
    share it, nobody sees another scope's figures."""
    paths = scope_paths(user, perm)
    scope = "all" if paths is None else ",".join(paths)
    full_key = f"dashboard:{key}:{scope}"
    value = django_cache.get(full_key)
    if value is None:
        value = compute()
        django_cache.set(full_key, value, seconds)
    return value
