"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "admin.add": _("add in the admin pages"),
    "admin.change": _("change in the admin pages"),
    "admin.save": _("save in the admin pages"),
    "admin.delete": _("delete in the admin pages"),
    "audit.export": _("export the audit log"),
    "core.secrets.reencrypt": _("re-encrypt stored secrets"),
    "job.cancel": _("cancel a job"),
    "job.rerun": _("run a job again"),
    "org.create": _("add an organization"),
    "role.assign": _("assign a role"),
    "sms.top_up": _("top up the SMS account"),
}
