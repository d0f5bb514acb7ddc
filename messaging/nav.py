from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(
        _("Members"), _("Member messages"), "messaging:list", "members.message", 30, icon="users"
    )
]
