from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

COUNTER = _("Counter")

NAV_ITEMS = [
    NavItem(
        COUNTER, _("Coupon redemption records"), "redemption:records", "redemption.view_records", 20
    ),
]
