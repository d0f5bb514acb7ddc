from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.navigation import NavItem

COUPONS = pgettext_lazy("menu", "Coupons")

NAV_ITEMS = [
    NavItem(COUPONS, _("Coupon rules"), "coupons:rule_list", "coupons.view", 10, icon="ticket"),
    NavItem(
        COUPONS,
        _("Coupon rule review"),
        "coupons:rule_review",
        "coupons.approve_rules",
        15,
        icon="ticket",
    ),
    NavItem(COUPONS, _("Campaigns"), "coupons:campaign_list", "coupons.view", 20, icon="ticket"),
    NavItem(COUPONS, _("Coupon list"), "coupons:coupon_list", "coupons.view", 30, icon="ticket"),
    NavItem(
        COUPONS, _("Coupon activation"), "coupons:activation", "coupons.activate", 40, icon="ticket"
    ),
]
