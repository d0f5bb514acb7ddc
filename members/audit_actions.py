"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "members.register": _("register a member"),
    "members.import_start": _("start a member import"),
    "members.import": _("import members"),
    "members.order_received": _("receive a POS order"),
    "members.order_refunded": _("refund a POS order"),
    "members.update_profile": _("change a member's profile"),
    "members.change_phone": _("change a member's phone number"),
    "members.adjust_balance": _("adjust a member's balance"),
}
