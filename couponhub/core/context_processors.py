from couponhub.core.navigation import menu_for
from couponhub.core.permissions import COUNTER_STORES_PERM, stores_for
from couponhub.core.stores import current_store


def navigation(request):
    """The menu and the store switcher, worked out once a request: context processors run for
    every template rendered with the request, and a table's template cells are many."""
    cached = getattr(request, "_navigation_context", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    store = current_store(request)
    request._navigation_context = {
        "menu": menu_for(user),
        "current_store": store,
        "switchable_stores": list(stores_for(user, COUNTER_STORES_PERM)[:200]) if store else [],
    }
    return request._navigation_context
