"""Writes of the coupons domain, one module per area; callers import them from here.

- `issuance`: claim, purchase, U-value exchange, gifts, transfer (electronic coupons)
- `physical`: generate, receive (领用) and distribute (发放) physical coupons
- `status`: void, freeze, unfreeze, nightly expiry
- `rule_lifecycle`: save a rule, its review workflow, disable/invalidate, copy
- `campaigns`: save a campaign
- `exports`: the coupon list export (its runner is in coupons.jobs)
- `_common`: the rule lock, the validity window and code allocation they share

Every issuance locks the rule row (`select_for_update`) for the length of its transaction, so the
total quantity, the per-member claim limit and the claim deadline hold under concurrent requests,
and `issued_count` moves with `F()` together with the coupons it counts. Status changes of a coupon
are conditional UPDATEs (`WHERE status = …`) whose row count is checked.

Redemption (the `unused → used` UPDATE, returns, recharge top-ups) belongs to the redemption app;
it builds on `Coupon.redeemable_q`, `coupons.selectors` and `members.services.credit_stored_value`.
"""

from coupons.services._common import validity_window
from coupons.services.campaigns import save_campaign
from coupons.services.exports import COUPON_EXPORT, start_coupon_export
from coupons.services.issuance import (
    LIMITED_CHANNELS,
    claim_coupon,
    exchange_coupon,
    gift_coupons,
    gift_coupons_to_list,
    purchase_coupon,
    start_gift_job,
    transfer_coupon,
)
from coupons.services.physical import (
    GENERATE_CHUNK,
    distribute_physical,
    generate_physical_chunk,
    receive_physical,
    run_generation,
    start_generation,
)
from coupons.services.rule_lifecycle import (
    COPY_SKIP,
    EDITABLE,
    RULE_AUDIT_FIELDS,
    approve_rule,
    copy_rule,
    next_rule_code,
    reject_rule,
    review_rules,
    save_rule,
    set_rule_disabled,
    set_rule_invalidated,
    submit_rule,
)
from coupons.services.status import (
    expire_overdue_coupons,
    freeze_coupon,
    unfreeze_coupon,
    void_coupon,
)

__all__ = [
    "COPY_SKIP",
    "COUPON_EXPORT",
    "EDITABLE",
    "GENERATE_CHUNK",
    "LIMITED_CHANNELS",
    "RULE_AUDIT_FIELDS",
    "approve_rule",
    "claim_coupon",
    "copy_rule",
    "distribute_physical",
    "exchange_coupon",
    "expire_overdue_coupons",
    "freeze_coupon",
    "generate_physical_chunk",
    "gift_coupons",
    "gift_coupons_to_list",
    "next_rule_code",
    "purchase_coupon",
    "receive_physical",
    "reject_rule",
    "review_rules",
    "run_generation",
    "save_campaign",
    "save_rule",
    "set_rule_disabled",
    "set_rule_invalidated",
    "start_coupon_export",
    "start_generation",
    "start_gift_job",
    "submit_rule",
    "transfer_coupon",
    "unfreeze_coupon",
    "validity_window",
    "void_coupon",
]
