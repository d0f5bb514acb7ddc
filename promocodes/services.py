"""Every write of the promo-code domain: one transaction each, audited inside."""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.codes import random_string
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Org
from couponhub.core.money import ZERO, to_money
from promocodes import discounts
from promocodes.models import (
    Channel,
    Department,
    DepartmentBudget,
    DiscountType,
    FinanceLimits,
    Generation,
    PromoCode,
    PromoCodeApplication,
    PromoCodeUse,
    Subject,
    UserLevel,
)

Status = PromoCodeApplication.Status
AUTO_ALPHABET = string.ascii_uppercase + string.digits
AUTO_LENGTH = 6
MAX_AUTO_CODES = 10_000
MANUAL_CODE_RE = re.compile(r"^[A-Z0-9]{4,32}$")
APPLICATION_FIELDS = [
    "subject",
    "channel_id",
    "department_id",
    "activity_name",
    "generation",
    "quantity",
    "manual_code",
    "discount_type",
    "discount_rate",
    "floor_amount",
    "cap_amount",
    "direct_amount",
    "threshold_amount",
    "merchant_id",
    "category_id",
    "max_uses",
    "per_user_limit",
    "user_level",
    "platform",
    "delivery",
    "sale_type",
    "valid_from",
    "valid_to",
    "remarks",
    "status",
]
RULE_FIELD = {
    "rate": "discount_rate",
    "floor": "floor_amount",
    "cap": "cap_amount",
    "amount": "direct_amount",
    "threshold": "threshold_amount",
    "discount_type": "discount_type",
}


# --- channels, departments, budgets, finance limits ---------------------------------------


@transaction.atomic
def create_channel(*, actor, name: str, prefix: str, department: Department) -> Channel:
    prefix = prefix.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,10}", prefix):
        raise ValidationError({"prefix": "优惠码前缀只能是1到10位大写字母或数字"})
    if Channel.objects.filter(prefix=prefix).exists():
        raise ValidationError({"prefix": f"优惠码前缀{prefix}已被其他渠道使用"})
    if Channel.objects.filter(name=name).exists():
        raise ValidationError({"name": f"渠道名称{name}已存在"})
    channel = Channel.objects.create(
        name=name, prefix=prefix, department=department, created_by=actor
    )
    record_audit(
        actor=actor, action="promocodes.channel_create", obj=channel, after=snapshot(channel)
    )
    return channel


@transaction.atomic
def change_channel_status(*, actor, channel: Channel, action: str) -> Channel:
    """enable: 初始/禁用 → 启用; disable: 启用 → 禁用."""
    sources, target = Channel.TRANSITIONS[action]
    updated = Channel.objects.filter(pk=channel.pk, status__in=sources).update(status=target)
    if not updated:
        raise ValidationError(f"渠道当前状态为{channel.get_status_display()}，不能执行此操作")
    before = channel.status
    channel.refresh_from_db()
    record_audit(
        actor=actor,
        action=f"promocodes.channel_{action}",
        obj=channel,
        before={"status": before},
        after={"status": channel.status},
    )
    return channel


@transaction.atomic
def create_department(*, actor, name: str, code: str) -> Department:
    code = code.strip().upper()
    if Department.objects.filter(code=code).exists():
        raise ValidationError({"code": f"部门编码{code}已存在"})
    if Department.objects.filter(name=name).exists():
        raise ValidationError({"name": f"部门名称{name}已存在"})
    department = Department.objects.create(name=name, code=code)
    record_audit(
        actor=actor,
        action="promocodes.department_create",
        obj=department,
        after=snapshot(department),
    )
    return department


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


# --- applications --------------------------------------------------------------------------


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
    if worst is None:
        errors["max_uses"] = (
            "超出优惠码额度限制：不限最大使用次数（或不设使用上限的折扣）时无法核算最大优惠金额，"
            f"部门剩余预算{budget.remaining}元"
        )
    elif worst > budget.remaining:
        errors["max_uses"] = (
            f"超出优惠码额度限制：最大可能优惠{worst}元，超过部门剩余预算{budget.remaining}元"
        )
    return errors


def _new_auto_codes(prefix: str, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        wanted = count - len(codes)
        fresh = {prefix + random_string(AUTO_LENGTH, AUTO_ALPHABET) for _ in range(wanted)}
        taken = set(PromoCode.objects.filter(code__in=fresh).values_list("code", flat=True))
        codes |= fresh - taken
    return sorted(codes)


def _create_codes(application: PromoCodeApplication) -> None:
    if application.generation == Generation.MANUAL:
        PromoCode.objects.create(
            code=application.manual_code, application=application, max_uses=application.max_uses
        )
        return
    for _attempt in range(5):
        codes = _new_auto_codes(application.channel.prefix, application.quantity)
        try:
            with transaction.atomic():
                PromoCode.objects.bulk_create(
                    PromoCode(code=c, application=application, max_uses=application.max_uses)
                    for c in codes
                )
            return
        except IntegrityError:  # another application took one of them meanwhile
            continue
    raise ValidationError({"quantity": "生成优惠码时发生冲突，请重试"})


@dataclass
class ApplyResult:
    application: PromoCodeApplication
    warnings: list[str] = field(default_factory=list)


def channel_department_warning(channel: Channel, department: Department) -> str:
    if channel.department_id != department.pk:
        return (
            f"发放渠道“{channel.name}”所属部门为“{channel.department.name}”，"
            f"与申请部门“{department.name}”不一致"
        )
    return ""


def _application_errors(application: PromoCodeApplication, stores) -> dict[str, str]:
    """What refuses an application as filled in (new, or a draft being changed)."""
    errors: dict[str, str] = {}
    channel = application.channel
    if channel.status != Channel.Status.ENABLED:
        errors["channel"] = f"发放渠道“{channel.name}”未启用，不能申请优惠码"
    if application.subject == Subject.MERCHANT and application.merchant_id is None:
        errors["merchant"] = "申请主体为商家时必须选择使用商家"
    if application.category_id and not application.merchant_id:
        errors["category"] = "限制品类前必须先限制商家"
    elif application.category_id and application.category.merchant_id != application.merchant_id:
        errors["category"] = "所选品类不属于所选商家"
    bad_stores = [s.name for s in stores if not s.is_store]
    if bad_stores:
        errors["stores"] = f"只能选择门店：{'、'.join(bad_stores)}"
    if application.valid_to <= application.valid_from:
        errors["valid_to"] = "结束时间必须晚于开始时间"
    if application.generation == Generation.MANUAL:
        application.quantity = 1
        application.manual_code = application.manual_code.strip().upper()
        others = PromoCode.objects.exclude(application_id=application.pk)
        if not MANUAL_CODE_RE.fullmatch(application.manual_code):
            errors["manual_code"] = "优惠码须为4到32位大写字母或数字"
        elif others.filter(code=application.manual_code).exists():
            errors["manual_code"] = f"优惠码{application.manual_code}已存在"
    else:
        application.manual_code = ""
        if not (1 <= application.quantity <= MAX_AUTO_CODES):
            errors["quantity"] = f"生成个数必须在1到{MAX_AUTO_CODES}之间"
    if application.discount_type != DiscountType.PERCENT:
        application.discount_rate = None
    if not errors:
        errors.update(cost_errors(application))
    return errors


@transaction.atomic
def apply_for_promo_codes(
    *,
    actor,
    org: Org,
    data: dict,
    stores: list[Org] | tuple = (),
    copied_from: PromoCodeApplication | None = None,
) -> ApplyResult:
    """Create an application (初始) with its codes; ValidationError by field when refused."""
    application = PromoCodeApplication(
        org=org, created_by=actor, copied_from=copied_from, status=Status.DRAFT, **data
    )
    errors = _application_errors(application, stores)
    if errors:
        raise ValidationError(errors)
    application.save()
    if stores:
        application.stores.set(stores)
    _create_codes(application)
    warning = channel_department_warning(application.channel, application.department)
    record_audit(
        actor=actor,
        action="promocodes.apply",
        obj=application,
        org=org,
        after=snapshot(application, APPLICATION_FIELDS),
        note=warning,
    )
    return ApplyResult(application, [warning] if warning else [])


@transaction.atomic
def change_draft_application(
    *, actor, application: PromoCodeApplication, data: dict, stores: list[Org] | tuple = ()
) -> ApplyResult:
    """修改: change an application still in 初始, under the rules of a new one. Its codes were
    never handed out (only approved codes are), so they are made again from the new values."""
    application = PromoCodeApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != Status.DRAFT:
        raise ValidationError("只有初始状态的优惠码申请可以修改；已提审的请先驳回或复制后重新申请")
    before = snapshot(application, APPLICATION_FIELDS)
    for name, value in data.items():
        setattr(application, name, value)
    errors = _application_errors(application, stores)
    if errors:
        raise ValidationError(errors)
    application.save()
    application.stores.set(stores)
    application.codes.all().delete()
    _create_codes(application)
    warning = channel_department_warning(application.channel, application.department)
    record_audit(
        actor=actor,
        action="promocodes.change",
        obj=application,
        org=application.org,
        before=before,
        after=snapshot(application, APPLICATION_FIELDS),
        note=warning,
    )
    return ApplyResult(application, [warning] if warning else [])


def _transition(
    *,
    actor,
    applications,
    sources: set[str],
    target: str,
    action: str,
    extra: dict | None = None,
    check=None,
) -> tuple[list[PromoCodeApplication], dict[str, str]]:
    """Move each application from one of `sources` to `target` (a conditional update each).

    Returns the moved ones and, per application number, why the others were not moved.
    """
    moved: list[PromoCodeApplication] = []
    refused: dict[str, str] = {}
    for application in applications:
        if check is not None:
            problems = check(application)
            if problems:
                refused[application.number] = "；".join(problems.values())
                continue
        updated = PromoCodeApplication.objects.filter(pk=application.pk, status__in=sources).update(
            status=target, **(extra or {})
        )
        if not updated:
            application.refresh_from_db(fields=["status"])
            refused[application.number] = (
                f"当前状态为{application.get_display_status_display()}，不能执行此操作"
            )
            continue
        before = application.status
        application.refresh_from_db()
        record_audit(
            actor=actor,
            action=action,
            obj=application,
            org=application.org,
            before={"status": before},
            after={"status": application.status, **(extra or {})},
            note=(extra or {}).get("rejection_reason", ""),
        )
        moved.append(application)
    return moved, refused


@transaction.atomic
def submit_applications(*, actor, applications) -> tuple[list, dict]:
    """提审 (single or batch): 初始 → 待审核."""
    return _transition(
        actor=actor,
        applications=applications,
        sources={Status.DRAFT},
        target=Status.PENDING,
        action="promocodes.submit",
        extra={"submitted_by": actor, "submitted_at": timezone.now()},
    )


@transaction.atomic
def approve_applications(*, actor, applications) -> tuple[list, dict]:
    """审核通过 (single or batch): the limits and the budget are checked again as they are now."""
    return _transition(
        actor=actor,
        applications=applications,
        sources={Status.PENDING},
        target=Status.APPROVED,
        action="promocodes.approve",
        extra={"reviewed_by": actor, "reviewed_at": timezone.now(), "rejection_reason": ""},
        check=lambda a: cost_errors(a) if a.status == Status.PENDING else {},
    )


@transaction.atomic
def reject_applications(*, actor, applications, reason: str) -> tuple[list, dict]:
    """审核驳回 (single or batch), with a reason."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "驳回时必须填写驳回原因"})
    return _transition(
        actor=actor,
        applications=applications,
        sources={Status.PENDING},
        target=Status.REJECTED,
        action="promocodes.reject",
        extra={
            "reviewed_by": actor,
            "reviewed_at": timezone.now(),
            "rejection_reason": reason[:200],
        },
    )


@transaction.atomic
def invalidate_application(*, actor, application: PromoCodeApplication) -> PromoCodeApplication:
    """手动失效: an approved application (before or during its window) stops at once."""
    moved, refused = _transition(
        actor=actor,
        applications=[application],
        sources={Status.APPROVED},
        target=Status.INVALIDATED,
        action="promocodes.invalidate",
        extra={"invalidated_by": actor, "invalidated_at": timezone.now()},
    )
    if refused:
        raise ValidationError(next(iter(refused.values())))
    return moved[0]


@transaction.atomic
def export_codes(*, actor, application: PromoCodeApplication):
    """推广: the application's codes and their usage rules to .xlsx, in the download centre."""
    if application.status not in {Status.APPROVED, Status.INVALIDATED}:
        raise ValidationError("只有审核通过的优惠码可以推广导出")
    job = enqueue_job(
        kind="promocodes.export_codes",
        title=f"优惠码推广导出 {application.number} {application.activity_name}",
        owner=actor,
        params={"application_id": application.pk},
        total=application.codes.count(),
    )
    record_audit(actor=actor, action="promocodes.export", obj=application, note=f"job {job.pk}")
    return job


# --- checkout: validate, use, cancel (SPEC.md §10) ----------------------------------------


@dataclass(frozen=True)
class Item:
    sku: str
    amount: Decimal
    merchant: str = ""
    category: str = ""
    sale_type: str = "normal"


@dataclass(frozen=True)
class Checkout:
    code: str
    user_id: str
    items: tuple[Item, ...]
    is_new_user: bool = False
    is_new_online_user: bool | None = None
    platform: str = ""
    delivery: str = ""
    store_code: str = ""
    coupon_applied: bool = False


@dataclass(frozen=True)
class Quote:
    promo_code: PromoCode
    discount: Decimal
    eligible_amount: Decimal
    budget: DepartmentBudget | None


def _refuse(code: str, message: str, status: int = 400):
    raise Refused(code, message, status)


def _check_window(application: PromoCodeApplication, now) -> None:
    if application.status == Status.INVALIDATED:
        _refuse("promo_code_invalidated", "优惠码已失效，不能使用")
    if application.status != Status.APPROVED:
        _refuse("promo_code_not_approved", "优惠码未审核通过，不能使用")
    if now < application.valid_from:
        local = timezone.localtime(application.valid_from)
        _refuse("promo_code_not_active", f"优惠码尚未生效，{local:%Y-%m-%d %H:%M}起可用")
    if now >= application.valid_to:
        _refuse("promo_code_expired", "优惠码已过期，不能使用")


def _check_order(application: PromoCodeApplication, checkout: Checkout) -> None:
    if application.platform != "any" and checkout.platform != application.platform:
        _refuse(
            "platform_not_allowed",
            f"该优惠码仅限{application.get_platform_display()}使用",
        )
    if application.delivery != "any" and checkout.delivery != application.delivery:
        _refuse(
            "delivery_not_allowed",
            f"该优惠码仅限{application.get_delivery_display()}订单使用",
        )
    store_codes = [s.code for s in application.stores.all()]
    if store_codes and checkout.store_code not in store_codes:
        _refuse("store_not_allowed", "该优惠码不能在本门店使用")
    if application.user_level == UserLevel.NEW_USER_FIRST and not checkout.is_new_user:
        _refuse("new_user_only", "该优惠码仅限新用户首单使用")
    if application.user_level == UserLevel.NEW_ONLINE_USER_FIRST:
        online_new = (
            checkout.is_new_user
            if checkout.is_new_online_user is None
            else checkout.is_new_online_user
        )
        if not online_new or checkout.platform not in {"m", "app"}:
            _refuse("new_online_user_only", "该优惠码仅限线上新用户首单使用")


def eligible_amount(application: PromoCodeApplication, items) -> Decimal:
    """Sum of the items matching the code's merchant, category and sales-type restrictions."""
    matching = list(items)
    if application.merchant_id:
        merchant_code = application.merchant.code
        matching = [i for i in matching if i.merchant == merchant_code]
        if not matching:
            _refuse(
                "merchant_not_allowed", f"该优惠码仅限商家“{application.merchant.name}”的商品使用"
            )
    if application.category_id:
        category_code = application.category.code
        matching = [i for i in matching if i.category == category_code]
    if application.sale_type != "any":
        matching = [i for i in matching if i.sale_type == application.sale_type]
    total = to_money(sum((i.amount for i in matching), ZERO))
    if not matching or total <= 0:
        _refuse("no_eligible_items", "订单中没有可使用该优惠码的商品")
    return total


def _quote(promo_code: PromoCode, checkout: Checkout, *, now, lock: bool) -> Quote:
    application = promo_code.application
    if checkout.coupon_applied:
        _refuse("coupon_already_applied", "已使用优惠券，优惠码与优惠券不可叠加使用")
    _check_window(application, now)
    _check_order(application, checkout)
    eligible = eligible_amount(application, checkout.items)
    try:
        discount = discounts.compute_discount(application.rule, eligible)
    except discounts.BelowFloor as exc:
        _refuse(
            "below_floor",
            f"不满足优惠码使用条件：可优惠商品金额满{to_money(exc.needed)}元可用，"
            f"当前为{eligible}元",
        )
    if promo_code.max_uses and promo_code.uses_count >= promo_code.max_uses:
        _refuse("uses_exhausted", "优惠码使用次数已用完", 409)
    if application.per_user_limit:
        used = PromoCodeUse.objects.filter(
            code__application=application, user_id=checkout.user_id, cancelled_at__isnull=True
        ).count()
        if used >= application.per_user_limit:
            _refuse(
                "per_user_limit_reached",
                f"每位用户最多使用该优惠码{application.per_user_limit}次，您已用完",
                409,
            )
    budget = None
    if application.subject == Subject.PLATFORM:
        budget = budget_for(application.department_id, timezone.localdate(now), lock=lock)
        if budget is None or budget.remaining < discount:
            _refuse("budget_exhausted", "优惠码活动预算已用完，暂不能使用", 409)
    return Quote(promo_code, discount, eligible, budget)


def _find_code(code: str, *, lock: bool = False) -> PromoCode:
    qs = PromoCode.objects.select_related(
        "application", "application__merchant", "application__category"
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    promo_code = qs.filter(code=code.strip().upper()).first()
    if promo_code is None:
        _refuse("promo_code_not_found", "优惠码不存在", 404)
    return promo_code


def validate_promo_code(*, checkout: Checkout) -> Quote:
    """结算页输入优惠码: the discount and eligible amount, or PromoCodeRefused with the reason."""
    return _quote(_find_code(checkout.code), checkout, now=timezone.now(), lock=False)


@transaction.atomic
def use_promo_code(*, checkout: Checkout, order_no: str, client_key: str = "") -> PromoCodeUse:
    """Record a use at order creation: counted, limited and charged in one locked transaction.
    Order numbers are the calling client's own; one live promo code per order."""
    if not order_no.strip():
        _refuse("invalid_request", "order_no 不能为空")
    promo_code = _find_code(checkout.code, lock=True)
    application = promo_code.application
    if application.per_user_limit:
        # every code of the application shares the per-user count: serialise on the application
        list(PromoCodeApplication.objects.select_for_update().filter(pk=application.pk))
    this_order = PromoCodeUse.objects.filter(client_key=client_key, order_no=order_no)
    live = this_order.filter(cancelled_at__isnull=True)
    if live.filter(code=promo_code).exists():
        _refuse("order_already_used", f"订单{order_no}已使用该优惠码", 409)
    if live.exists():
        _refuse_second_code(order_no)
    if this_order.filter(code=promo_code).exists():
        _refuse("order_cancelled", f"订单{order_no}已取消，不能再次使用该优惠码", 409)
    now = timezone.now()
    quote = _quote(promo_code, checkout, now=now, lock=True)
    store = (
        Org.objects.filter(code=checkout.store_code, kind=Org.Kind.STORE).first()
        if checkout.store_code
        else None
    )
    # the code's row is locked by _quote(lock=True): it is there to count on
    PromoCode.objects.filter(pk=promo_code.pk).update(uses_count=F("uses_count") + 1)
    merchant = None
    if application.subject == Subject.PLATFORM:
        charged = DepartmentBudget.objects.filter(
            pk=quote.budget.pk, spent__lte=F("amount") - quote.discount
        ).update(spent=F("spent") + quote.discount)
        if not charged:
            _refuse("budget_exhausted", "优惠码活动预算已用完，暂不能使用", 409)
    else:
        merchant = application.merchant
    try:
        with transaction.atomic():
            use = PromoCodeUse.objects.create(
                code=promo_code,
                user_id=checkout.user_id,
                order_no=order_no,
                store=store,
                client_key=client_key,
                discount=quote.discount,
                eligible_amount=quote.eligible_amount,
                charged_budget=quote.budget,
                charged_merchant=merchant,
                used_at=now,
            )
    except IntegrityError:
        # another code was used on this order at the same moment and committed first (the
        # one-live-use-per-order constraint waited for it): this one is refused, and the count
        # and budget charged above roll back with it
        _refuse_second_code(order_no)
    record_audit(
        actor=f"api:{client_key}" if client_key else "api",
        action="promocodes.use",
        obj=use,
        org=store,
        after=snapshot(use, ["code_id", "user_id", "order_no", "discount", "eligible_amount"]),
    )
    promo_code.uses_count += 1
    return use


def _refuse_second_code(order_no: str):
    _refuse("order_has_promo_code", f"订单{order_no}已使用其他优惠码，优惠码不可叠加使用", 409)


@transaction.atomic
def cancel_promo_use(*, order_no: str, code: str = "", client_key: str = "") -> list[PromoCodeUse]:
    """Order cancelled: each of its uses is given back once (count and charged amount). Only
    the client that used a code on its order can cancel it: another client's order number is
    not found."""
    uses = (
        PromoCodeUse.objects.select_for_update()
        .filter(client_key=client_key, order_no=order_no)
        .order_by("pk")
    )
    if code:
        uses = uses.filter(code__code=code.strip().upper())
    uses = list(uses)
    if not uses:
        _refuse("promo_use_not_found", f"订单{order_no}没有使用优惠码", 404)
    now = timezone.now()
    cancelled = []
    for use in uses:
        if use.cancelled_at is not None:
            continue
        PromoCodeUse.objects.filter(pk=use.pk).update(cancelled_at=now)
        PromoCode.objects.filter(pk=use.code_id).update(uses_count=F("uses_count") - 1)
        if use.charged_budget_id:
            DepartmentBudget.objects.filter(pk=use.charged_budget_id).update(
                spent=F("spent") - use.discount
            )
        use.cancelled_at = now
        record_audit(
            actor=f"api:{client_key}" if client_key else "api",
            action="promocodes.cancel_use",
            obj=use,
            org=None,
            after={"order_no": order_no, "discount": use.discount},
        )
        cancelled.append(use)
    if not cancelled:
        _refuse("use_already_cancelled", f"订单{order_no}的优惠码已退回，不能重复取消", 409)
    return cancelled
