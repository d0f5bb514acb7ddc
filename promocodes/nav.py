from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

PROMO = _("Promo codes")

NAV_ITEMS = [
    NavItem(
        PROMO,
        _("Promo code applications"),
        "promocodes:applications",
        "promocodes.view",
        10,
        icon="percent",
    ),
    NavItem(
        PROMO,
        _("Apply for promo codes"),
        "promocodes:create",
        "promocodes.apply",
        20,
        icon="percent",
    ),
    NavItem(
        PROMO, _("Promo code review"), "promocodes:review", "promocodes.approve", 30, icon="percent"
    ),
    NavItem(PROMO, _("Channels"), "promocodes:channels", "promocodes.view", 40, icon="percent"),
    NavItem(
        PROMO,
        _("Departments and budgets"),
        "promocodes:budgets",
        "promocodes.view",
        50,
        icon="percent",
    ),
    NavItem(
        PROMO,
        _("Finance limits"),
        "promocodes:finance_limits",
        "promocodes.finance_limits",
        60,
        icon="percent",
    ),
]
