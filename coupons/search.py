"""The header search over coupons: a coupon code or a recharge number opens the coupon list
filtered to it, for users who see coupon lists, within their scope (the rule's creating org)."""

from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from couponhub.core.global_search import Hit
from couponhub.core.permissions import has_perm, scope_q
from coupons.models import Coupon


def coupons(user, q: str) -> list[Hit]:
    if not has_perm(user, "coupons.view"):
        return []
    coupon = (
        Coupon.objects.filter(Q(code=q.upper()) | Q(code=q) | Q(recharge_no=q))
        .filter(scope_q(user, "coupons.view", "rule__creating_org"))
        .select_related("rule")
        .first()
    )
    if coupon is None:
        return []
    url = f"{reverse('coupons:coupon_list')}?{urlencode({'code': coupon.code})}"
    return [
        Hit(
            _("coupon"),
            coupon.code,
            url,
            f"{coupon.rule.name} · {coupon.get_effective_status_display()}",
        )
    ]


PROVIDERS = [coupons]
