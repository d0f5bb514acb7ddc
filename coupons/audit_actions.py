"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

ACTIONS = {
    "coupons.rule_create": _("add a coupon rule"),
    "coupons.rule_update": _("change a coupon rule"),
    "coupons.rule_submit": _("submit a coupon rule"),
    "coupons.rule_approve": _("approve a coupon rule"),
    "coupons.rule_reject": _("reject a coupon rule"),
    "coupons.rule_disable": _("disable a coupon rule"),
    "coupons.rule_enable": _("enable a coupon rule again"),
    "coupons.rule_invalidate": _("invalidate a coupon rule"),
    "coupons.rule_revalidate": _("make a coupon rule valid again"),
    "coupons.campaign_create": _("add a campaign"),
    "coupons.campaign_update": _("change a campaign"),
    "coupons.claim": _("claim a coupon"),
    "coupons.purchase": _("buy a coupon"),
    "coupons.gift": _("gift coupons"),
    "coupons.gift_start": _("start a coupon gift"),
    "coupons.u_value_exchange": _("exchange U-value for a coupon"),
    "coupons.transfer": _("transfer a coupon"),
    "coupons.generate": _("generate physical coupons"),
    "coupons.receive": _("receive physical coupons"),
    "coupons.distribute": _("distribute physical coupons"),
    "coupons.freeze": _("freeze a coupon"),
    "coupons.unfreeze": _("unfreeze a coupon"),
    "coupons.void": _("void a coupon"),
    "coupons.activate": _("activate coupons"),
    "coupons.deactivate": _("deactivate coupons"),
    "coupons.print_cards": _("print coupon cards"),
    "coupons.export": _("export coupons"),
}

SNAPSHOT_LABELS = {
    # 不适用食品类别 of a rule: the codes of its product-master categories
    "excluded_categories": pgettext_lazy("audit snapshot", "excluded food categories"),
}
