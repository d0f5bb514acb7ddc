from django.utils.translation import gettext_lazy as _

from couponhub.core.nav import SYSTEM
from couponhub.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(
        SYSTEM, _("Users and roles"), "staff:users", "core.manage_users", 30, icon="shield-check"
    ),
    NavItem(
        SYSTEM, _("Organisation"), "staff:org_tree", "core.manage_orgs", 40, icon="shield-check"
    ),
]
