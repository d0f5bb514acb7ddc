"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS, and couponhub.core.sms its SMS_PURPOSES."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "staff.create_user": _("add a staff user"),
    "staff.update_user": _("change a staff user"),
    "staff.activate_user": _("enable a staff user"),
    "staff.deactivate_user": _("disable a staff user"),
    "staff.reset_password": _("reset a staff user's password"),
    "staff.make_password_link": _("make a one-time password link"),
    "staff.use_password_link": _("set a password through a one-time link"),
    "staff.unlock_user": _("unlock a staff user"),
    "staff.import_users": _("import staff users"),
    "role.revoke": _("revoke a role"),
    "org.update": _("change an organization"),
    "org.move": _("move an organization"),
    "org.close": _("close a store"),
    "org.reopen": _("reopen a store"),
}

SMS_PURPOSES = {
    "staff.password_link": _("one-time password link"),
}
