from couponhub.core.navigation import breadcrumb, menu_for
from couponhub.core.permissions import COUNTER_STORES_PERM, stores_for
from couponhub.core.stores import current_store

SHORT_MENU = 12


def navigation(request):
    """The menu, breadcrumb and store switcher, worked out once a request: context processors run
    for every template rendered with the request, and a table's template cells are many."""
    cached = getattr(request, "_navigation_context", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    store = current_store(request)
    menu = menu_for(user, request.path)
    request._navigation_context = {
        "menu": menu,
        # a short menu (a clerk's, a store manager's) shows all its entries; a long one only the
        # group of the page at hand
        "menu_short": sum(len(section["items"]) for section in menu) <= SHORT_MENU,
        "crumb": breadcrumb(menu, request.path),
        "current_store": store,
        "switchable_stores": list(stores_for(user, COUNTER_STORES_PERM)[:200]) if store else [],
    }
    return request._navigation_context
