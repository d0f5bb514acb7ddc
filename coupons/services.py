"""Writes of the coupons domain: issuance, physical coupon steps, status changes.

Every issuance locks the rule row (`select_for_update`) for the length of its transaction, so the
total quantity, the per-member claim limit and the claim deadline hold under concurrent requests,
and `issued_count` moves with `F()` together with the coupons it counts. Status changes of a coupon
are conditional UPDATEs (`WHERE status = …`) whose row count is checked.

Redemption (the `unused → used` UPDATE, returns, recharge top-ups) belongs to the redemption app;
it builds on `Coupon.redeemable_q`, `coupons.selectors` and `members.services.credit_stored_value`.
"""

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from couponhub.core import codes
from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.models import Job, Org
from coupons.models import Campaign, Coupon, CouponRule
from members import services as member_services
from members.models import Member

Status = Coupon.Status
Channel = Coupon.Channel


# --- validity -------------------------------------------------------------------------------------


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _end_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def validity_window(
    rule: CouponRule, obtained_at: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    """(valid_from, valid_to) of a coupon of `rule` obtained at `obtained_at`."""
    valid_from = max(obtained_at, _start_of_day(rule.effective_date))
    if rule.validity_type == CouponRule.ValidityType.FIXED:
        return valid_from, _end_of_day(rule.valid_until)
    local_start = timezone.localtime(valid_from).date()
    return valid_from, _end_of_day(local_start + datetime.timedelta(days=rule.valid_days - 1))


# --- code allocation ------------------------------------------------------------------------------


def _random_code(rule: CouponRule) -> str:
    body_len = max(4, rule.numeric_length)
    return codes.random_code(length=body_len, prefix=rule.code_prefix) + rule.code_suffix


def _new_coupon(rule: CouponRule, number: int, **fields) -> Coupon:
    if rule.code_mode == CouponRule.CodeMode.RANDOM:
        code = _random_code(rule)
    else:
        code = rule.format_code(number)
    return Coupon(rule=rule, number=number, code=code, **fields)


def _insert_coupons(rule: CouponRule, coupons: list[Coupon]) -> None:
    """bulk insert; random codes that collide with an existing code are redrawn."""
    if rule.code_mode != CouponRule.CodeMode.RANDOM:
        Coupon.objects.bulk_create(coupons, batch_size=5000)
        return
    for _attempt in range(5):
        try:
            with transaction.atomic():
                Coupon.objects.bulk_create(coupons, batch_size=5000)
            return
        except IntegrityError:
            taken = set(
                Coupon.objects.filter(code__in=[c.code for c in coupons]).values_list(
                    "code", flat=True
                )
            )
            for c in coupons:
                if c.code in taken:
                    c.code = _random_code(rule)
    raise Refused("coupon_refused", "券码生成冲突过多，请加长券码长度", status=409)


def _lock_rule(rule: CouponRule) -> CouponRule:
    return CouponRule.objects.select_for_update().get(pk=rule.pk)


def _check_campaign(campaign: Campaign | None, rule: CouponRule, today) -> None:
    if campaign is None:
        return
    if campaign.rule_id != rule.pk:
        raise Refused("coupon_refused", "活动与券规则不符", status=409)
    if not campaign.is_active or not campaign.starts_on <= today <= campaign.ends_on:
        raise Refused("coupon_refused", f"活动【{campaign.name}】不在活动期内", status=409)


# --- electronic issuance --------------------------------------------------------------------------

LIMITED_CHANNELS = (Channel.CLAIM, Channel.PURCHASE, Channel.U_VALUE_EXCHANGE)


def _issue_one(
    *,
    actor,
    rule: CouponRule,
    member: Member,
    channel: str,
    campaign: Campaign | None = None,
    price_paid: Decimal | None = None,
    payment_method: str = "",
    u_value_price: int | None = None,
) -> Coupon:
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        rule = _lock_rule(rule)
        refusal = rule.issuance_refusal(today)
        if refusal:
            raise Refused("coupon_refused", refusal, status=409)
        if not rule.is_electronic:
            raise Refused("coupon_refused", "实物券不能在线领取，请通过领用、发放获得", status=409)
        if channel == Channel.CLAIM and rule.sale_price is not None:
            raise Refused("coupon_refused", "该券需购买获得，不能免费领取", status=409)
        if channel == Channel.PURCHASE and rule.sale_price is None:
            raise Refused("coupon_refused", "该券没有券售价，不能购买", status=409)
        if channel == Channel.U_VALUE_EXCHANGE and rule.kind != CouponRule.Kind.U_VALUE_EXCHANGE:
            raise Refused("coupon_refused", "该券不是积分兑换券，不能用U享值兑换", status=409)
        deadline = rule.claim_deadline
        if channel in (Channel.CLAIM, Channel.PURCHASE) and deadline and today > deadline:
            raise Refused("coupon_refused", f"已过最迟领取日期{deadline:%Y-%m-%d}", status=409)
        _check_campaign(campaign, rule, today)
        if rule.issued_count >= rule.total:
            raise Refused("coupon_refused", "券已领完", status=409)
        if rule.per_member_limit:
            held = Coupon.objects.filter(
                rule=rule, member=member, channel__in=LIMITED_CHANNELS
            ).count()
            if held >= rule.per_member_limit:
                raise Refused(
                    "coupon_refused", f"每人限领{rule.per_member_limit}张，已达上限", status=409
                )
        number = rule.start_value + rule.issued_count
        valid_from, valid_to = validity_window(rule, now)
        coupon = _new_coupon(
            rule,
            number,
            status=Status.UNUSED,
            channel=channel,
            campaign=campaign,
            member=member,
            customer_name=member.name,
            obtained_at=now,
            valid_from=valid_from,
            valid_to=valid_to,
            price_paid=price_paid,
            payment_method=payment_method,
            u_value_paid=u_value_price,
        )
        _insert_coupons(rule, [coupon])
        CouponRule.objects.filter(pk=rule.pk).update(issued_count=F("issued_count") + 1)
        if u_value_price:
            try:
                member_services.change_u_value(
                    member=member,
                    delta=-u_value_price,
                    reason=f"兑换优惠券 {rule.name}",
                    actor=actor,
                    ref_type="coupon",
                    ref_id=coupon.code,
                )
            except member_services.InsufficientBalance as exc:
                raise Refused(
                    "coupon_refused",
                    f"U享值不足：需要{u_value_price}，当前{member.u_value}",
                    status=409,
                ) from exc
        record_audit(
            actor=actor,
            action=f"coupons.{channel}",
            obj=coupon,
            after={"rule": rule.code, "member": member.member_no, "channel": channel},
        )
    return coupon


def claim_coupon(
    *, actor, rule: CouponRule, member: Member, campaign: Campaign | None = None
) -> Coupon:
    """A member claims a free electronic coupon (claim deadline, per-member limit, total)."""
    return _issue_one(
        actor=actor, rule=rule, member=member, channel=Channel.CLAIM, campaign=campaign
    )


def purchase_coupon(
    *,
    actor,
    rule: CouponRule,
    member: Member,
    payment_method: str,
    campaign: Campaign | None = None,
) -> Coupon:
    """A member buys an electronic ordinary coupon at its sale price."""
    return _issue_one(
        actor=actor,
        rule=rule,
        member=member,
        channel=Channel.PURCHASE,
        campaign=campaign,
        price_paid=rule.sale_price,
        payment_method=payment_method,
    )


def exchange_coupon(
    *, actor, member: Member, campaign: Campaign | None = None, rule: CouponRule | None = None
) -> Coupon:
    """U-value exchange: the U-value is deducted in the same transaction as the coupon."""
    rule = rule or campaign.rule
    price = campaign.effective_u_value_price() if campaign else rule.u_value_price
    if not price:
        raise Refused("coupon_refused", "未设置U享值价格，不能兑换", status=409)
    return _issue_one(
        actor=actor,
        rule=rule,
        member=member,
        channel=Channel.U_VALUE_EXCHANGE,
        campaign=campaign,
        u_value_price=price,
    )


def gift_coupons(
    *,
    actor,
    rule: CouponRule,
    member_ids: Sequence[int],
    campaign: Campaign | None = None,
    job: Job | None = None,
    audit: bool = True,
) -> int:
    """Give one coupon of `rule` to each member in `member_ids`, all or nothing.

    The operator's gift is not bound by the per-member claim limit; it is bound by the total.
    Bulk: codes are allocated as one block under the rule's row lock.
    """
    count = len(member_ids)
    if not count:
        return 0
    now = timezone.now()
    today = timezone.localdate(now)
    valid_from, valid_to = None, None
    with transaction.atomic():
        rule = _lock_rule(rule)
        refusal = rule.issuance_refusal(today)
        if refusal:
            raise Refused("coupon_refused", refusal, status=409)
        if not rule.is_electronic:
            raise Refused("coupon_refused", "实物券不能赠送，请通过领用、发放获得", status=409)
        _check_campaign(campaign, rule, today)
        if rule.issued_count + count > rule.total:
            raise Refused(
                "coupon_refused",
                f"剩余可发{rule.total - rule.issued_count}张，不足{count}张",
                status=409,
            )
        valid_from, valid_to = validity_window(rule, now)
        first = rule.start_value + rule.issued_count
        campaign_id = campaign.pk if campaign else None
        job_id = job.pk if job else None
        coupons = [
            _new_coupon(
                rule,
                first + i,
                status=Status.UNUSED,
                channel=Channel.GIFT,
                campaign_id=campaign_id,
                member_id=member_id,
                obtained_at=now,
                valid_from=valid_from,
                valid_to=valid_to,
                job_id=job_id,
                created_at=now,
            )
            for i, member_id in enumerate(member_ids)
        ]
        if rule.code_mode == CouponRule.CodeMode.SEQUENTIAL:
            _copy_coupons(coupons)
        else:
            _insert_coupons(rule, coupons)
        CouponRule.objects.filter(pk=rule.pk).update(issued_count=F("issued_count") + count)
        if audit:
            record_audit(
                actor=actor,
                action="coupons.gift",
                obj=rule,
                after={"count": count, "campaign": campaign.code if campaign else None},
                note=f"job {job_id}" if job_id else "",
            )
    return count


_COPY_COLUMNS = (
    "rule_id",
    "code",
    "number",
    "status",
    "status_before_freeze",
    "channel",
    "campaign_id",
    "member_id",
    "customer_name",
    "obtained_at",
    "valid_from",
    "valid_to",
    "payment_method",
    "job_id",
    "created_at",
)


def _copy_coupons(coupons: Iterable[Coupon]) -> None:
    """PostgreSQL COPY of new coupon rows: several times faster than INSERT for big gifts."""
    table = Coupon._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:
            for c in coupons:
                copy.write_row(
                    (
                        c.rule_id,
                        c.code,
                        c.number,
                        c.status,
                        "",
                        c.channel,
                        c.campaign_id,
                        c.member_id,
                        c.customer_name,
                        c.obtained_at,
                        c.valid_from,
                        c.valid_to,
                        "",
                        c.job_id,
                        c.created_at,
                    )
                )


def transfer_coupon(*, actor, coupon: Coupon, from_member: Member, to_member: Member) -> Coupon:
    """Give an unused, unexpired, transferable electronic coupon to another member."""
    if from_member.pk == to_member.pk:
        raise Refused("coupon_refused", "不能转赠给自己", status=409)
    now = timezone.now()
    with transaction.atomic():
        if not coupon.rule.transferable or not coupon.rule.is_electronic:
            raise Refused("coupon_refused", "该券不可转赠", status=409)
        updated = Coupon.objects.filter(
            pk=coupon.pk, member=from_member, status=Status.UNUSED, valid_to__gte=now
        ).update(member=to_member, transferred_from=from_member, channel=Channel.TRANSFER)
        if not updated:
            coupon.refresh_from_db()
            raise Refused("coupon_refused", f"券{coupon.code}当前状态不能转赠", status=409)
        record_audit(
            actor=actor,
            action="coupons.transfer",
            obj=coupon,
            before={"member": from_member.member_no},
            after={"member": to_member.member_no},
        )
    coupon.refresh_from_db()
    return coupon


# --- physical coupons -----------------------------------------------------------------------------

GENERATE_CHUNK = 5000


def generate_physical_chunk(*, rule: CouponRule, numbers: Sequence[int], job: Job | None) -> int:
    """Create the physical coupons with these serial numbers that do not exist yet."""
    with transaction.atomic():
        rule = _lock_rule(rule)
        existing = set(
            Coupon.objects.filter(rule=rule, number__in=numbers).values_list("number", flat=True)
        )
        todo = [n for n in numbers if n not in existing]
        if not todo:
            return 0
        now = timezone.now()
        is_recharge = rule.benefit == CouponRule.Benefit.RECHARGE
        length = rule.recharge_number_length or 18
        new = [
            _new_coupon(
                rule,
                n,
                status=Status.GENERATED,
                channel=Channel.PHYSICAL,
                job=job,
                created_at=now,
                recharge_no=codes.random_digits_number(length, length) if is_recharge else None,
            )
            for n in todo
        ]
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    Coupon.objects.bulk_create(new, batch_size=GENERATE_CHUNK)
                break
            except IntegrityError:
                taken_codes = set(
                    Coupon.objects.filter(code__in=[c.code for c in new]).values_list(
                        "code", flat=True
                    )
                )
                if taken_codes and rule.code_mode == CouponRule.CodeMode.SEQUENTIAL:
                    raise Refused(
                        "coupon_refused",
                        f"券码{sorted(taken_codes)[0]}已被其他规则占用，请修改前置/后置字符",
                        status=409,
                    ) from None
                taken_nos = set(
                    Coupon.objects.filter(
                        recharge_no__in=[c.recharge_no for c in new if c.recharge_no]
                    ).values_list("recharge_no", flat=True)
                )
                for c in new:
                    if c.code in taken_codes:
                        c.code = _random_code(rule)
                    if c.recharge_no in taken_nos:
                        c.recharge_no = codes.random_digits_number(length, length)
        else:
            raise Refused("coupon_refused", "券码生成冲突过多", status=409)
        CouponRule.objects.filter(pk=rule.pk).update(
            generated_count=F("generated_count") + len(new)
        )
    return len(new)


def start_generation(*, actor, rule: CouponRule) -> Job | int:
    """生成: all `total` coupons of an approved physical rule. Large totals run as a job."""
    from couponhub.core.jobs import enqueue_job

    with transaction.atomic():
        rule = _lock_rule(rule)
        if not rule.is_physical:
            raise Refused("coupon_refused", "只有实物券需要生成", status=409)
        if rule.status != CouponRule.Status.APPROVED:
            raise Refused("coupon_refused", "券规则审核通过后才能生成", status=409)
        if rule.is_disabled or rule.is_invalidated:
            raise Refused("coupon_refused", "券规则已禁用或已失效，不能生成", status=409)
        if rule.generated_count >= rule.total:
            raise Refused("coupon_refused", "该规则的券已全部生成", status=409)
        record_audit(actor=actor, action="coupons.generate", obj=rule, after={"total": rule.total})
        if rule.total > 1000:
            return enqueue_job(
                kind="coupons.generate_physical",
                title=f"生成实物券 {rule.code}",
                owner=actor,
                params={"rule_id": rule.pk},
                total=rule.total,
            )
    return run_generation(rule=rule, job=None)


def run_generation(*, rule: CouponRule, job: Job | None, progress=None) -> int:
    """Generate what is missing, chunk by chunk; a re-run finishes with exactly `total` coupons."""
    made = 0
    start, end = rule.start_value, rule.compute_end_value()
    for chunk_start in range(start, end + 1, GENERATE_CHUNK):
        numbers = list(range(chunk_start, min(chunk_start + GENERATE_CHUNK, end + 1)))
        made += generate_physical_chunk(rule=rule, numbers=numbers, job=job)
        if progress:
            progress(min(chunk_start + GENERATE_CHUNK, end + 1) - start)
    return made


def _parse_range(rule: CouponRule, code_from: str, code_to: str) -> tuple[int, int]:
    numbers = []
    for label, code in (("起始券码", code_from), ("截止券码", code_to)):
        c = Coupon.objects.filter(rule=rule, code=code.strip()).values_list("number", flat=True)
        number = c.first()
        if number is None:
            raise Refused("coupon_refused", f"{label}{code}不属于该券规则", status=409)
        numbers.append(number)
    if numbers[0] > numbers[1]:
        raise Refused("coupon_refused", "起始券码不能大于截止券码", status=409)
    return numbers[0], numbers[1]


def receive_physical(*, actor, rule: CouponRule, code_from: str, code_to: str, store: Org) -> int:
    """领用: every generated coupon in the code range goes to `store`. Returns the count."""
    if not store.is_store:
        raise Refused("coupon_refused", "领用门店必须是门店", status=409)
    lo, hi = _parse_range(rule, code_from, code_to)
    with transaction.atomic():
        n = Coupon.objects.filter(
            rule=rule, number__gte=lo, number__lte=hi, status=Status.GENERATED
        ).update(status=Status.RECEIVED, store=store)
        if not n:
            raise Refused("coupon_refused", "该券码范围内没有待领用的券", status=409)
        record_audit(
            actor=actor,
            action="coupons.receive",
            obj=rule,
            org=store,
            after={"from": code_from, "to": code_to, "count": n, "store": store.code},
        )
    return n


def distribute_physical(
    *,
    actor,
    rule: CouponRule,
    code_from: str,
    code_to: str,
    customer_name: str,
    member: Member | None = None,
) -> int:
    """发放: received coupons of the range go to a customer (optionally a member) and become
    usable. Only distributed physical coupons can be redeemed."""
    lo, hi = _parse_range(rule, code_from, code_to)
    now = timezone.now()
    valid_from, valid_to = validity_window(rule, now)
    with transaction.atomic():
        n = Coupon.objects.filter(
            rule=rule, number__gte=lo, number__lte=hi, status=Status.RECEIVED
        ).update(
            status=Status.UNUSED,
            customer_name=customer_name or (member.name if member else ""),
            member=member,
            obtained_at=now,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        if not n:
            raise Refused("coupon_refused", "该券码范围内没有已领用待发放的券", status=409)
        record_audit(
            actor=actor,
            action="coupons.distribute",
            obj=rule,
            after={
                "from": code_from,
                "to": code_to,
                "count": n,
                "customer": customer_name,
                "member": member.member_no if member else None,
            },
        )
    return n


# --- status changes -------------------------------------------------------------------------------


def _change_status(*, actor, coupon: Coupon, action: str, allowed, updates: dict, error: str):
    with transaction.atomic():
        before = snapshot(coupon, ["status"])
        n = Coupon.objects.filter(pk=coupon.pk, status__in=allowed).update(**updates)
        if not n:
            coupon.refresh_from_db()
            raise Refused(
                "coupon_refused",
                error.format(code=coupon.code, status=coupon.get_status_display()),
                status=409,
            )
        coupon.refresh_from_db()
        record_audit(
            actor=actor,
            action=action,
            obj=coupon,
            before=before,
            after=snapshot(coupon, ["status"]),
        )
    return coupon


def void_coupon(*, actor, coupon: Coupon) -> Coupon:
    """作废: never-used coupons (any status but used/voided) become voided for good."""
    return _change_status(
        actor=actor,
        coupon=coupon,
        action="coupons.void",
        allowed=[Status.GENERATED, Status.RECEIVED, Status.UNUSED, Status.FROZEN, Status.EXPIRED],
        updates={"status": Status.VOIDED, "voided_at": timezone.now()},
        error="券{code}状态为{status}，不能作废",
    )


def freeze_coupon(*, actor, coupon: Coupon) -> Coupon:
    """冻结: an unused (or not yet distributed) coupon can't be used until unfrozen."""
    allowed = [Status.UNUSED, Status.GENERATED, Status.RECEIVED]
    return _change_status(
        actor=actor,
        coupon=coupon,
        action="coupons.freeze",
        allowed=allowed,
        updates={"status": Status.FROZEN, "status_before_freeze": F("status")},
        error="券{code}状态为{status}，不能冻结",
    )


def unfreeze_coupon(*, actor, coupon: Coupon) -> Coupon:
    """解冻: back to the status it had before freezing (past valid_to it then shows expired)."""
    return _change_status(
        actor=actor,
        coupon=coupon,
        action="coupons.unfreeze",
        allowed=[Status.FROZEN],
        updates={"status": F("status_before_freeze"), "status_before_freeze": ""},
        error="券{code}状态为{status}，不能解冻",
    )


def expire_overdue_coupons(*, now=None) -> int:
    """Nightly tidy-up: store 'expired' on unused coupons past valid_to. Reads never need it."""
    now = now or timezone.now()
    return Coupon.objects.filter(status=Status.UNUSED, valid_to__lt=now).update(
        status=Status.EXPIRED
    )


# --- coupon rules: save, workflow, flags ----------------------------------------------------------

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


def save_rule(*, actor, rule: CouponRule, usable_orgs, confirm: bool = False) -> CouponRule:
    """暂存 (draft) or 保存 (created, confirm=True) a new or editable rule; full validation."""
    from coupons.rules import rule_errors

    usable_orgs = list(usable_orgs)
    errors = rule_errors(rule, usable_org_count=len(usable_orgs))
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
            rule.modified_by, rule.modified_at = actor, now
        else:
            before = None
            rule.code = rule.code or next_rule_code()
            rule.created_by, rule.created_at = actor, now
            rule.issued_count = rule.generated_count = 0
        rule.end_value = rule.start_value + rule.total - 1
        rule.status = RuleStatus.CREATED if confirm else RuleStatus.DRAFT
        rule.save()
        rule.usable_orgs.set(usable_orgs)
        record_audit(
            actor=actor,
            action="coupons.rule_create" if creating else "coupons.rule_update",
            obj=rule,
            before=before,
            after=snapshot(rule, RULE_AUDIT_FIELDS),
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
    """提交: draft/created → in review."""
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
    return save_rule(actor=actor, rule=copy, usable_orgs=rule.usable_orgs.all())


# --- campaigns ------------------------------------------------------------------------------------


def save_campaign(*, actor, campaign: Campaign) -> Campaign:
    """Create or update a campaign; a marketing rule referenced by it gets its reference type."""
    if campaign.ends_on < campaign.starts_on:
        raise Refused("coupon_refused", "结束日期：不得早于开始日期", status=409)
    with transaction.atomic():
        creating = campaign.pk is None
        if creating:
            campaign.created_by = actor
        campaign.save()
        rule = campaign.rule
        if rule.kind == CouponRule.Kind.MARKETING and not rule.reference_type:
            CouponRule.objects.filter(pk=rule.pk).update(
                reference_type=campaign.get_channel_display()
            )
        record_audit(
            actor=actor,
            action="coupons.campaign_create" if creating else "coupons.campaign_update",
            obj=campaign,
            after=snapshot(
                campaign,
                ["code", "name", "rule_id", "channel", "u_value_price", "starts_on", "ends_on"],
            ),
        )
    return campaign


def start_gift_job(*, actor, rule: CouponRule, campaign: Campaign | None, upload) -> Job:
    """Store the uploaded member list and queue the gift job."""
    from django.core.files.storage import default_storage

    from couponhub.core.jobs import enqueue_job

    refusal = rule.issuance_refusal()
    if refusal:
        raise Refused("coupon_refused", refusal, status=409)
    with transaction.atomic():
        name = default_storage.save(f"imports/gifts/{upload.name}", upload)
        job = enqueue_job(
            kind="coupons.gift",
            title=f"赠送优惠券 {rule.code} {rule.name}"[:200],
            owner=actor,
            params={
                "rule_id": rule.pk,
                "campaign_id": campaign.pk if campaign else None,
                "file": name,
            },
        )
        record_audit(actor=actor, action="coupons.gift_start", obj=rule, note=upload.name)
    return job
