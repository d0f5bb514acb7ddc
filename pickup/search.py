"""The header search over gift-card pickup: a pickup code opens its page (pickup.view); a pickup
order number opens the order for who may see it (its store's managers for a store order)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from couponhub.core.global_search import Hit
from couponhub.core.permissions import has_perm
from pickup.models import PickupCode, PickupOrder

VIEW, MANAGE, VERIFY = "pickup.view", "pickup.manage", "pickup.verify_store_order"


def codes(user, q: str) -> list[Hit]:
    if not has_perm(user, VIEW):
        return []
    code = PickupCode.objects.filter(code=q.upper()).select_related("card_type").first()
    code = code or PickupCode.objects.filter(code=q).select_related("card_type").first()
    if code is None:
        return []
    return [
        Hit(
            _("pickup code"),
            code.code,
            reverse("pickup:code_detail", args=[code.pk]),
            str(code.card_type),
        )
    ]


def orders(user, q: str) -> list[Hit]:
    order = (
        PickupOrder.objects.filter(order_no=q.upper(), deleted_at__isnull=True)
        .select_related("store__store")
        .first()
    )
    if order is None:
        return []
    org = order.store.store if order.store_id else None
    perms = [VIEW, MANAGE] + ([VERIFY] if order.kind == PickupOrder.Kind.STORE else [])
    if not any(has_perm(user, p, org) if org else has_perm(user, p) for p in perms):
        return []
    if has_perm(user, VIEW, org) if org else has_perm(user, VIEW):
        url = reverse("pickup:order_detail", args=[order.pk])
    else:
        url = reverse("pickup:store_order_detail", args=[order.pk])
    return [Hit(_("pickup order"), order.order_no, url, order.get_status_display())]


PROVIDERS = [codes, orders]
