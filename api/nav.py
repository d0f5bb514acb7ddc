from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(
        _("System"), _("API clients"), "api:clients", "api.manage_clients", 50, icon="shield-check"
    )
]
