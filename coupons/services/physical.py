"""Physical coupons: generate (生成) a rule's serial range, receive (领用) a code range into a
store, distribute (发放) it to a customer. Only distributed physical coupons can be redeemed."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from couponhub.core import codes
from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job, Org
from coupons.models import Coupon, CouponRule
from coupons.services._common import lock_rule, new_coupon, random_code, validity_window
from members.models import Member

Status = Coupon.Status
Channel = Coupon.Channel


GENERATE_CHUNK = 5000


def generate_physical_chunk(*, rule: CouponRule, numbers: Sequence[int], job: Job | None) -> int:
    """Create the physical coupons with these serial numbers that do not exist yet."""
    with transaction.atomic():
        rule = lock_rule(rule)
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
            new_coupon(
                rule,
                n,
                status=Status.GENERATED,
                channel=Channel.PHYSICAL,
                job=job,
                created_at=now,
                recharge_no=codes.random_digits_number(length, length) if is_recharge else None,
                activated=not rule.needs_activation,
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
                        c.code = random_code(rule)
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
    with transaction.atomic():
        rule = lock_rule(rule)
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


@dataclass(frozen=True)
class Received:
    """What 领用 of a code range did: `count` coupons received now, `already` of the range
    received (or further along) before, and left as they were."""

    count: int
    already: int


def receive_physical(
    *, actor, rule: CouponRule, code_from: str, code_to: str, store: Org
) -> Received:
    """领用: every generated coupon in the code range goes to `store`; a range that overlaps one
    received before says how many of it were already received."""
    if not store.is_store:
        raise Refused("coupon_refused", "领用门店必须是门店", status=409)
    lo, hi = _parse_range(rule, code_from, code_to)
    in_range = Coupon.objects.filter(rule=rule, number__gte=lo, number__lte=hi)
    with transaction.atomic():
        n = in_range.filter(status=Status.GENERATED).update(status=Status.RECEIVED, store=store)
        already = in_range.count() - n  # coupons are never deleted: the rest were taken before
        if not n:
            raise Refused(
                "coupon_refused",
                f"该券码范围内的{already}张券此前均已领用，没有待领用的券",
                status=409,
            )
        record_audit(
            actor=actor,
            action="coupons.receive",
            obj=rule,
            org=store,
            after={
                "from": code_from,
                "to": code_to,
                "count": n,
                "already": already,
                "store": store.code,
            },
        )
    return Received(count=n, already=already)


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
