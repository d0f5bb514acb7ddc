from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

MEMBERS = _("Members")

NAV_ITEMS = [
    NavItem(MEMBERS, _("Members"), "members:list", "members.view", 10, icon="users"),
    NavItem(MEMBERS, _("Member tags"), "members:tags", "members.manage_tags", 15, icon="users"),
    NavItem(MEMBERS, _("Member import"), "members:import", "members.import", 20, icon="users"),
]
