from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

SYSTEM = _("System")

# Users and roles, the org tree: staff/nav.py (our own pages; Django's admin is in no menu)
NAV_ITEMS = [
    NavItem(SYSTEM, _("Audit log"), "core:audit_log", "core.view_audit", 10, icon="shield-check"),
    NavItem(
        SYSTEM, _("SMS account"), "core:sms_account", "core.manage_sms", 20, icon="shield-check"
    ),
    NavItem(
        SYSTEM,
        _("Event subscribers"),
        "core:event_subscribers",
        "core.manage_events",
        25,
        icon="shield-check",
    ),
    NavItem(
        SYSTEM,
        _("Event delivery log"),
        "core:event_deliveries",
        "core.manage_events",
        26,
        icon="shield-check",
    ),
]
