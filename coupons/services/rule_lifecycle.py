"""Coupon rules: save (暂存/保存), the review workflow, the disabled and invalidated flags, copy."""

from django.db import transaction
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from coupons.models import CouponRule
from coupons.rules import draft_errors, rule_errors

RuleStatus = CouponRule.Status
EDITABLE = (RuleStatus.DRAFT, RuleStatus.CREATED)
RULE_AUDIT_FIELDS = [
    "code",
    "name",
    "medium",
    "kind",
    "benefit",
    "face_value",
    "discount_rate",
    "exchange_product_id",
    "total",
    "status",
    "is_disabled",
    "is_invalidated",
    "reject_reason",
]


def next_rule_code() -> str:
    yy = timezone.localdate().strftime("%y")
    last = CouponRule.objects.order_by("-id").values_list("id", flat=True).first() or 0
    n = last + 1
    while CouponRule.objects.filter(code=f"YHQ-FG-{yy}{n:06d}").exists():
        n += 1
    return f"YHQ-FG-{yy}{n:06d}"


def save_rule(
    *, actor, rule: CouponRule, usable_orgs, excluded_categories=(), confirm: bool = False
) -> CouponRule:
    """暂存 (draft: only the name required) or 保存 (created, confirm=True: every field checked)
    a new or editable rule. `excluded_categories`: 不适用食品类别 of the product master."""
    usable_orgs = list(usable_orgs)
    excluded_categories = list(excluded_categories)
    excluded = len(excluded_categories)
    if confirm:
        errors = rule_errors(
            rule, usable_org_count=len(usable_orgs), excluded_category_count=excluded
        )
    else:
        errors = draft_errors(rule, excluded_category_count=excluded)
    if errors:
        raise Refused("coupon_refused", "；".join(errors.values()), status=409)
    now = timezone.now()
    with transaction.atomic():
        creating = rule.pk is None
        if not creating:
            current = CouponRule.objects.select_for_update().get(pk=rule.pk)
            if current.status not in EDITABLE:
                raise Refused("coupon_refused", "只有暂存或创建状态的券规则可以修改", status=409)
            before = snapshot(current, RULE_AUDIT_FIELDS)
            before["excluded_categories"] = sorted(
                current.excluded_categories.values_list("code", flat=True)
            )
            rule.modified_by, rule.modified_at = actor, now
        else:
            before = None
            rule.code = rule.code or next_rule_code()
            rule.created_by, rule.created_at = actor, now
            rule.issued_count = rule.generated_count = 0
        rule.end_value = rule.start_value + rule.total - 1 if rule.total else 0
        rule.status = RuleStatus.CREATED if confirm else RuleStatus.DRAFT
        rule.save()
        rule.usable_orgs.set(usable_orgs)
        rule.excluded_categories.set(excluded_categories)
        after = snapshot(rule, RULE_AUDIT_FIELDS)
        after["excluded_categories"] = sorted(c.code for c in excluded_categories)
        record_audit(
            actor=actor,
            action="coupons.rule_create" if creating else "coupons.rule_update",
            obj=rule,
            before=before,
            after=after,
            org=rule.creating_org,
        )
    return rule


def _transition(
    *, actor, rule: CouponRule, action: str, allowed, updates: dict, error: str, note=""
) -> CouponRule:
    with transaction.atomic():
        current = CouponRule.objects.select_for_update().get(pk=rule.pk)
        if not allowed(current):
            raise Refused("coupon_refused", error, status=409)
        before = snapshot(current, RULE_AUDIT_FIELDS)
        CouponRule.objects.filter(pk=rule.pk).update(**updates)
        rule.refresh_from_db()
        record_audit(
            actor=actor,
            action=action,
            obj=rule,
            before=before,
            after=snapshot(rule, RULE_AUDIT_FIELDS),
            org=rule.creating_org,
            note=note,
        )
    return rule


def submit_rule(*, actor, rule: CouponRule) -> CouponRule:
    """提交: draft/created → in review; a draft saved incomplete (暂存) is refused, naming what
    is missing."""
    errors = rule_errors(
        rule,
        usable_org_count=rule.usable_orgs.count(),
        excluded_category_count=rule.excluded_categories.count(),
    )
    if errors:
        raise Refused(
            "coupon_refused",
            f"券规则{rule.code}未填写完整，不能提交审核：" + "；".join(errors.values()),
            status=409,
        )
    return _transition(
        actor=actor,
        rule=rule,
        action="coupons.rule_submit",
        allowed=lambda r: r.status in EDITABLE,
        updates={"status": RuleStatus.IN_REVIEW, "reject_reason": ""},
        error="只有暂存或创建状态的券规则可以提交审核",
    )


def approve_rule(*, actor, rule: CouponRule) -> CouponRule:
    """审核 (finance): in review → approved."""
    return _transition(
        actor=actor,
        rule=rule,
        action="coupons.rule_approve",
        allowed=lambda r: r.status == RuleStatus.IN_REVIEW,
        updates={
            "status": RuleStatus.APPROVED,
            "approved_by": actor,
            "approved_at": timezone.now(),
        },
        error="只有审核中的券规则可以审核",
    )


def reject_rule(*, actor, rule: CouponRule, reason: str) -> CouponRule:
    """驳回 (finance): in review → draft, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused("coupon_refused", "驳回原因：必须填写", status=409)
    return _transition(
        actor=actor,
        rule=rule,
        action="coupons.rule_reject",
        allowed=lambda r: r.status == RuleStatus.IN_REVIEW,
        updates={"status": RuleStatus.DRAFT, "reject_reason": reason[:200]},
        error="只有审核中的券规则可以驳回",
        note=reason,
    )


def review_rules(
    *, actor, rules, approve: bool, reason: str = ""
) -> tuple[list[CouponRule], dict[str, str]]:
    """The finance review queue's batch 审核通过 / 驳回 (with one reason for all): each rule moves
    on its own (one transaction each, as one by one on the detail page); returns the rules moved
    and, by rule code, why the others were refused."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise Refused("coupon_refused", "驳回原因：必须填写", status=409)
    moved, refused = [], {}
    for rule in rules:
        try:
            if approve:
                moved.append(approve_rule(actor=actor, rule=rule))
            else:
                moved.append(reject_rule(actor=actor, rule=rule, reason=reason))
        except Refused as exc:
            refused[rule.code] = exc.message
    return moved, refused


def set_rule_disabled(*, actor, rule: CouponRule, disabled: bool) -> CouponRule:
    """禁用 / 反禁用 of an approved rule. Coupons already out stay usable."""
    return _transition(
        actor=actor,
        rule=rule,
        action="coupons.rule_disable" if disabled else "coupons.rule_enable",
        allowed=lambda r: r.status == RuleStatus.APPROVED and r.is_disabled != disabled,
        updates={"is_disabled": disabled, "disabled_by": actor, "disabled_at": timezone.now()},
        error="券规则已禁用" if disabled else "只有已审核且已禁用的券规则可以反禁用",
    )


def set_rule_invalidated(*, actor, rule: CouponRule, invalidated: bool) -> CouponRule:
    """失效 / 反失效. After 反失效 a rule still inside its validity window issues again."""
    updates = {"is_invalidated": invalidated}
    if invalidated:
        updates.update(invalidated_by=actor, invalidated_at=timezone.now())
    return _transition(
        actor=actor,
        rule=rule,
        action="coupons.rule_invalidate" if invalidated else "coupons.rule_revalidate",
        allowed=lambda r: r.is_invalidated != invalidated,
        updates=updates,
        error="券规则已失效" if invalidated else "券规则未失效",
    )


COPY_SKIP = {
    "id",
    "code",
    "status",
    "reject_reason",
    "is_disabled",
    "is_invalidated",
    "issued_count",
    "generated_count",
    "reference_type",
    "created_by",
    "created_at",
    "modified_by",
    "modified_at",
    "approved_by",
    "approved_at",
    "invalidated_by",
    "invalidated_at",
    "disabled_by",
    "disabled_at",
}


def copy_rule(*, actor, rule: CouponRule) -> CouponRule:
    """复制: a new draft with every field of the rule except its code, counters and audit."""
    data = {
        f.attname: getattr(rule, f.attname)
        for f in CouponRule._meta.concrete_fields
        if f.attname.removesuffix("_id") not in COPY_SKIP and f.attname not in COPY_SKIP
    }
    copy = CouponRule(**data)
    copy.name = f"{rule.name}（复制）"[:100]
    return save_rule(
        actor=actor,
        rule=copy,
        usable_orgs=rule.usable_orgs.all(),
        excluded_categories=rule.excluded_categories.all(),
    )
