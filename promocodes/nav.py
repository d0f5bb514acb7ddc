from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

PROMO = _("Promo codes")

NAV_ITEMS = [
    NavItem(PROMO, _("Promo code applications"), "promocodes:applications", "promocodes.view", 10),
    NavItem(PROMO, _("Apply for promo codes"), "promocodes:create", "promocodes.apply", 20),
    NavItem(PROMO, _("Promo code review"), "promocodes:review", "promocodes.approve", 30),
    NavItem(PROMO, _("Channels"), "promocodes:channels", "promocodes.view", 40),
    NavItem(PROMO, _("Departments and budgets"), "promocodes:budgets", "promocodes.view", 50),
    NavItem(
        PROMO, _("Finance limits"), "promocodes:finance_limits", "promocodes.finance_limits", 60
    ),
]
