"""Applications (优惠码申请): apply, change a draft, submit, approve, reject, invalidate, export."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Org
from promocodes.models import (
    Channel,
    Department,
    DiscountType,
    Generation,
    PromoCode,
    PromoCodeApplication,
    Subject,
)
from promocodes.services.budgets import cost_errors
from promocodes.services.code_generation import MANUAL_CODE_RE, MAX_AUTO_CODES, create_codes

Status = PromoCodeApplication.Status
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
    create_codes(application)
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
    create_codes(application)
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
