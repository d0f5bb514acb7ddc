"""The store a counter user works at now; switchable in the page header."""

from couponhub.core.models import Org

SESSION_KEY = "current_store_id"
COUNTER_PERM = "members.lookup"


def current_store(request) -> Org | None:
    if not hasattr(request, "_current_store"):
        request._current_store = _find_current_store(request)
    return request._current_store


def _find_current_store(request) -> Org | None:
    from couponhub.core.permissions import has_perm, stores_for

    user = request.user
    if not user.is_authenticated or not has_perm(user, COUNTER_PERM):
        return None
    stores = stores_for(user, COUNTER_PERM).select_related("parent")
    store_id = request.session.get(SESSION_KEY)
    store = stores.filter(pk=store_id).first() if store_id else None
    return store or stores.order_by("code").first()
