from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

COUNTER = _("Counter")
OUTSIDE = _("Outside coupons")

NAV_ITEMS = [
    NavItem(
        COUNTER, _("Member lookup"), "redemption:lookup", "members.lookup", 10, icon="scan-barcode"
    ),
    NavItem(
        COUNTER,
        _("Coupon redemption records"),
        "redemption:records",
        "redemption.view_records",
        20,
        icon="scan-barcode",
    ),
    NavItem(
        COUNTER,
        _("Outside coupon redemption"),
        "redemption:outside_till",
        "redemption.redeem",
        30,
        icon="scan-barcode",
    ),
    NavItem(
        OUTSIDE,
        _("Outside shop binding"),
        "redemption:outside_shops",
        "redemption.manage_outside",
        10,
        icon="store",
    ),
    NavItem(
        OUTSIDE,
        _("Outside coupon activities"),
        "redemption:outside_activities",
        "redemption.manage_outside",
        20,
        icon="store",
    ),
    NavItem(
        OUTSIDE,
        _("Outside coupon mapping"),
        "redemption:outside_mappings",
        "redemption.manage_outside",
        30,
        icon="store",
    ),
    NavItem(
        OUTSIDE,
        _("Outside coupon archive"),
        "redemption:outside_archive",
        "redemption.manage_outside",
        40,
        icon="store",
    ),
]
