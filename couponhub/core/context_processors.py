from couponhub.core.navigation import breadcrumb, menu_for
from couponhub.core.permissions import COUNTER_STORES_PERM, stores_for
from couponhub.core.stores import current_store


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    store = current_store(request)
    menu = menu_for(user, request.path)
    return {
        "menu": menu,
        "crumb": breadcrumb(menu, request.path),
        "current_store": store,
        "switchable_stores": list(stores_for(user, COUNTER_STORES_PERM)[:200]) if store else [],
    }
