"""What each audit action of this app is called on the pages (the audit log, history tables);
couponhub.core.audit collects every app's ACTIONS, and couponhub.core.sms its SMS_PURPOSES."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "redemption.redeem": _("redeem coupons"),
    "redemption.return": _("return a redemption"),
    "redemption.link_order": _("link an order"),
    "redemption.link_refused": _("leave a redemption unlinked: its coupons do not fit the order"),
    "redemption.sms_sent": _("send a verification code"),
    "redemption.sms_resent": _("send the verification code again"),
    "redemption.outside_activity_create": _("add an outside coupon activity"),
    "redemption.outside_activity_update": _("change an outside coupon activity"),
    "redemption.outside_mapping": _("map an outside product"),
    "redemption.outside_received": _("receive outside coupons"),
    "redemption.outside_bind": _("bind an outside coupon"),
    "redemption.outside_unbind": _("unbind an outside coupon"),
    "redemption.outside_redeem": _("redeem an outside coupon"),
    "redemption.outside_archive_export": _("export outside coupon redemptions"),
    "redemption.outside_return": _("return an outside coupon"),
    "redemption.export": _("export redemptions"),
}

SMS_PURPOSES = {
    "redeem_code": _("redemption verification code"),
    "outside_redeemed": _("outside coupon redeemed"),
}
