"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "promocodes.channel_create": _("add a channel"),
    "promocodes.channel_enable": _("enable a channel"),
    "promocodes.channel_disable": _("disable a channel"),
    "promocodes.department_create": _("add a department"),
    "promocodes.budget_create": _("add a budget"),
    "promocodes.budget_update": _("change a budget"),
    "promocodes.finance_limits_update": _("change the finance limits"),
    "promocodes.apply": _("apply for promo codes"),
    "promocodes.change": _("change a promo code application"),
    "promocodes.submit": _("submit promo codes for review"),
    "promocodes.approve": _("approve promo codes"),
    "promocodes.reject": _("reject promo codes"),
    "promocodes.invalidate": _("invalidate promo codes by hand"),
    "promocodes.export": _("export promo codes"),
    "promocodes.use": _("use a promo code"),
    "promocodes.cancel_use": _("cancel a promo code use"),
    "promocodes.export_list": _("export the promo code list"),
}
