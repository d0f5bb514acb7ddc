"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "api.client_create": _("add an API client"),
    "api.client_activate": _("enable an API client"),
    "api.client_deactivate": _("disable an API client"),
}
