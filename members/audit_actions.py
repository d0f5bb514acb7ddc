"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS and SNAPSHOT_LABELS."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

ACTIONS = {
    "members.register": _("register a member"),
    "members.import_start": _("start a member import"),
    "members.import": _("import members"),
    "members.order_received": _("receive a POS order"),
    "members.order_refunded": _("refund a POS order"),
    "members.update_profile": _("change a member's profile"),
    "members.change_phone": _("change a member's phone number"),
    "members.adjust_balance": _("adjust a member's balance"),
    "members.tag_create": _("add a member tag"),
    "members.tag_update": _("change a member tag"),
    "members.tag_delete": _("delete a member tag"),
    "members.set_tags": _("change a member's tags"),
    "members.tag_members": _("put a tag on members"),
    "members.untag_members": _("take a tag off members"),
}

SNAPSHOT_LABELS = {
    "tags": pgettext_lazy("audit snapshot", "tags"),
    "members": pgettext_lazy("audit snapshot", "members"),
}
