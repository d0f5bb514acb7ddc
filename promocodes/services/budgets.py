"""What a promo code may cost: department budgets, the finance limits, and the check of an
application against both (at application and again at approval)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.money import to_money
from promocodes import discounts
from promocodes.models import (
    Department,
    DepartmentBudget,
    FinanceLimits,
    PromoCodeApplication,
    Subject,
)

RULE_FIELD = {
    "rate": "discount_rate",
    "floor": "floor_amount",
    "cap": "cap_amount",
    "amount": "direct_amount",
    "threshold": "threshold_amount",
    "discount_type": "discount_type",
}


@transaction.atomic
def set_department_budget(
    *, actor, department: Department, period_start: dt.date, period_end: dt.date, amount: Decimal
) -> DepartmentBudget:
    """Create the period's budget or change its amount (never below what is already spent)."""
    amount = to_money(amount)
    if period_end < period_start:
        raise ValidationError({"period_end": "预算期间的结束日期不能早于开始日期"})
    if amount < 0:
        raise ValidationError({"amount": "预算金额不能为负数"})
    budget = (
        DepartmentBudget.objects.select_for_update()
        .filter(department=department, period_start=period_start)
        .first()
    )
    overlapping = DepartmentBudget.objects.filter(
        department=department, period_start__lte=period_end, period_end__gte=period_start
    )
    if budget is not None:
        overlapping = overlapping.exclude(pk=budget.pk)
    if overlapping.exists():
        raise ValidationError({"period_start": "该部门已有与此期间重叠的预算"})
    if budget is None:
        budget = DepartmentBudget.objects.create(
            department=department, period_start=period_start, period_end=period_end, amount=amount
        )
        record_audit(
            actor=actor, action="promocodes.budget_create", obj=budget, after=snapshot(budget)
        )
        return budget
    if amount < budget.spent:
        raise ValidationError({"amount": f"预算金额不能低于已使用的{budget.spent}元"})
    before = snapshot(budget, ["amount", "period_end"])
    budget.amount = amount
    budget.period_end = period_end
    budget.save(update_fields=["amount", "period_end"])
    record_audit(
        actor=actor,
        action="promocodes.budget_update",
        obj=budget,
        before=before,
        after=snapshot(budget, ["amount", "period_end"]),
    )
    return budget


FINANCE_LIMIT_FIELDS = ["min_discount_rate", "max_direct_amount", "max_threshold_ratio"]


@transaction.atomic
def update_finance_limits(
    *, actor, min_discount_rate: Decimal, max_direct_amount: Decimal, max_threshold_ratio: Decimal
) -> FinanceLimits:
    if not (0 < min_discount_rate <= 100):
        raise ValidationError({"min_discount_rate": "折扣下限必须大于0且不超过100"})
    if max_direct_amount < 0:
        raise ValidationError({"max_direct_amount": "直减最大金额不能为负数"})
    if not (0 <= max_threshold_ratio <= 1):
        raise ValidationError({"max_threshold_ratio": "满减最大优惠比例必须在0到1之间"})
    FinanceLimits.current()
    limits = FinanceLimits.objects.select_for_update().get(pk=1)
    before = snapshot(limits, FINANCE_LIMIT_FIELDS)
    limits.min_discount_rate = min_discount_rate
    limits.max_direct_amount = to_money(max_direct_amount)
    limits.max_threshold_ratio = max_threshold_ratio
    limits.updated_by = actor
    limits.updated_at = timezone.now()
    limits.save()
    record_audit(
        actor=actor,
        action="promocodes.finance_limits_update",
        obj=limits,
        before=before,
        after=snapshot(limits, FINANCE_LIMIT_FIELDS),
    )
    return limits


def budget_for(department_id: int, day: dt.date, *, lock: bool = False) -> DepartmentBudget | None:
    qs = DepartmentBudget.objects.filter(
        department_id=department_id, period_start__lte=day, period_end__gte=day
    )
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def _as_limits(limits: FinanceLimits) -> discounts.Limits:
    return discounts.Limits(
        limits.min_discount_rate, limits.max_direct_amount, limits.max_threshold_ratio
    )


def cost_errors(application: PromoCodeApplication) -> dict[str, str]:
    """Finance limits and, for platform codes, the department's remaining budget."""
    rule = application.rule
    errors = {RULE_FIELD[k]: v for k, v in discounts.rule_errors(rule).items()}
    if errors:
        return errors
    limit = discounts.limit_errors(rule, _as_limits(FinanceLimits.current()))
    errors.update({RULE_FIELD[k]: v for k, v in limit.items()})
    if errors or application.subject != Subject.PLATFORM:
        return errors
    day = timezone.localdate(application.valid_from)
    budget = budget_for(application.department_id, day)
    if budget is None:
        errors["department"] = f"超出优惠码额度限制：申请部门在{day}所在期间没有优惠码预算"
        return errors
    worst = discounts.worst_case_cost(
        rule, max_uses=application.max_uses, codes=application.quantity
    )
    # 最大使用次数 0 is unlimited (N), and a discount without a cap has no largest discount: the
    # worst case is then unbounded, and the budget caps the money at each use instead
    # (checkout.use_promo_code charges it under a lock and refuses past it).
    if worst is None:
        if budget.remaining <= 0:
            errors["department"] = f"超出优惠码额度限制：申请部门在{day}所在期间的优惠码预算已用完"
    elif worst > budget.remaining:
        errors["max_uses"] = (
            f"超出优惠码额度限制：最大可能优惠{worst}元，超过部门剩余预算{budget.remaining}元"
        )
    return errors
