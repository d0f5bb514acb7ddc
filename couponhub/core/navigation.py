"""The menu: each app lists its entries in its own nav.py as NAV_ITEMS; a user sees only the
entries whose permission they hold. The sidebar groups them by section (one per domain) and the
breadcrumb of every page is found here too: section › menu entry › the page itself."""

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
    # the section's icon: a lucide-static name (templatetags/ui.py); the sidebar shows the icon
    # of a section's first entry, so the entries of one section give the same one
    icon: str = ""


@cache
def all_items() -> tuple[NavItem, ...]:
    return tuple(item for module in app_modules("nav") for item in module.NAV_ITEMS)


def menu_for(user, path: str = "") -> list[dict]:
    """[{section, icon, active, items: [{label, url, active}]}] in app order, only what the user
    may use. The entry whose address is the longest start of `path` is active (a rule's detail
    page belongs to the rule list), and so is its section."""
    sections: dict[str, list[dict]] = {}
    icons: dict[str, str] = {}
    for item in all_items():
        perms = item.perm if isinstance(item.perm, tuple) else (item.perm,)
        if not any(has_perm(user, perm) for perm in perms):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        name = str(item.section)
        sections.setdefault(name, []).append(
            {"label": item.label, "url": url, "order": item.order, "active": False}
        )
        if item.icon and name not in icons:
            icons[name] = item.icon
    menu = [
        {
            "section": name,
            "icon": icons.get(name, "folder"),
            "active": False,
            "items": sorted(entries, key=lambda e: e["order"]),
        }
        for name, entries in sections.items()
    ]
    best = None
    for section in menu:
        for entry in section["items"]:
            if path.startswith(entry["url"]) and (
                best is None or len(entry["url"]) > len(best[1]["url"])
            ):
                best = (section, entry)
    if best:
        best[0]["active"] = best[1]["active"] = True
    return menu


def breadcrumb(menu: list[dict], path: str) -> dict | None:
    """{section, label, url, exact} of the active entry (exact: the page is the entry itself,
    not a page under it), or None on a page outside the menu (home, downloads)."""
    for section in menu:
        for entry in section["items"]:
            if entry["active"]:
                return {
                    "section": section["section"],
                    "label": entry["label"],
                    "url": entry["url"],
                    "exact": path == entry["url"],
                }
    return None
