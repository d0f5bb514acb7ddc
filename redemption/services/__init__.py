"""Writes of the redemption domain: redeem (all-or-nothing), return, link an order, the SMS check.

One module per area; callers import from here (`redemption.services.redeem_coupons`):

- `redeem`: redeem coupons at a store, and why a coupon is refused (`refusal_for`)
- `returns`: return redeemed coupons (退券), by line, by redemption or by code
- `orders`: receive a POS order, link a redemption to an order, refund an order
- `sms_check`: the counter's SMS code (send, resend, check) and the redemption after it
- `exports`: the redemption records export (its runner is in redemption.jobs)

The SMS bounds (`CODE_TTL`, `RESEND_AFTER`, `MAX_ATTEMPTS`, `DAILY_LIMIT`, `STORE_DAILY_LIMIT`) are
re-exported for reading; the code reads them from `redemption.services.sms_check`, which is where
a test changes them.
"""

from redemption.services.exports import RECORDS_EXPORT, start_records_export
from redemption.services.orders import (
    link_order,
    link_pending_redemptions,
    receive_order,
    refund_order,
)
from redemption.services.redeem import (
    STATUS_CODES,
    Item,
    check_order_fit,
    is_recharge_number,
    redeem_coupons,
    redeem_recharge_coupon,
    refusal_for,
)
from redemption.services.returns import (
    auto_return_order,
    return_coupons,
    return_lines,
    return_redemption_line,
)
from redemption.services.sms_check import (
    CODE_TTL,
    DAILY_LIMIT,
    MAX_ATTEMPTS,
    PURPOSE,
    RESEND_AFTER,
    STORE_DAILY_LIMIT,
    check_sms_code,
    resend_sms_code,
    start_sms_challenge,
    verify_and_redeem,
)

__all__ = [
    "CODE_TTL",
    "DAILY_LIMIT",
    "MAX_ATTEMPTS",
    "PURPOSE",
    "RECORDS_EXPORT",
    "RESEND_AFTER",
    "STATUS_CODES",
    "STORE_DAILY_LIMIT",
    "Item",
    "auto_return_order",
    "check_order_fit",
    "check_sms_code",
    "is_recharge_number",
    "link_order",
    "link_pending_redemptions",
    "receive_order",
    "redeem_coupons",
    "redeem_recharge_coupon",
    "refund_order",
    "refusal_for",
    "resend_sms_code",
    "return_coupons",
    "return_lines",
    "return_redemption_line",
    "start_records_export",
    "start_sms_challenge",
    "verify_and_redeem",
]
