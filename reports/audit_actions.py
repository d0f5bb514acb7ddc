"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "reports.export": _("export a report"),
}
