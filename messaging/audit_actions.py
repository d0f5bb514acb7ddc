"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "messaging.draft": _("draft a member message"),
    "messaging.send": _("send a member message"),
}
