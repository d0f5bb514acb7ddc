from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

SYSTEM = _("System")

NAV_ITEMS = [
    NavItem(SYSTEM, _("Audit log"), "core:audit_log", "core.view_audit", 10, icon="shield-check"),
    NavItem(
        SYSTEM, _("SMS account"), "core:sms_account", "core.manage_sms", 20, icon="shield-check"
    ),
    NavItem(
        SYSTEM,
        _("Users and roles"),
        "admin:core_user_changelist",
        "core.manage_users",
        30,
        icon="shield-check",
    ),
    NavItem(
        SYSTEM,
        _("Organisation"),
        "admin:core_org_changelist",
        "core.manage_orgs",
        40,
        icon="shield-check",
    ),
]
