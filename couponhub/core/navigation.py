"""The menu: each app lists its entries in its own nav.py as NAV_ITEMS; a user sees only the
entries whose permission they hold."""

from dataclasses import dataclass
from functools import cache

from django.urls import NoReverseMatch, reverse

from couponhub.core.discovery import app_modules
from couponhub.core.permissions import has_perm


@dataclass(frozen=True)
class NavItem:
    section: str
    label: str
    url_name: str
    perm: str | tuple[str, ...]  # a tuple: any one of them is enough
    order: int = 100


@cache
def all_items() -> tuple[NavItem, ...]:
    return tuple(item for module in app_modules("nav") for item in module.NAV_ITEMS)


def menu_for(user) -> list[dict]:
    """[{section, items: [{label, url}]}] in app order, only what the user may use."""
    sections: dict[str, list[dict]] = {}
    for item in all_items():
        perms = item.perm if isinstance(item.perm, tuple) else (item.perm,)
        if not any(has_perm(user, perm) for perm in perms):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        sections.setdefault(str(item.section), []).append(
            {"label": item.label, "url": url, "order": item.order}
        )
    return [
        {"section": name, "items": sorted(entries, key=lambda e: e["order"])}
        for name, entries in sections.items()
    ]
