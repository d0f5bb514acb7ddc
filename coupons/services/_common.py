"""What issuance and the physical coupon steps share: the rule lock, validity, code allocation."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from couponhub.core import codes
from couponhub.core.errors import Refused
from coupons.models import Coupon, CouponRule


def lock_rule(rule: CouponRule) -> CouponRule:
    return CouponRule.objects.select_for_update().get(pk=rule.pk)


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


def random_code(rule: CouponRule) -> str:
    body_len = max(4, rule.numeric_length)
    return codes.random_code(length=body_len, prefix=rule.code_prefix) + rule.code_suffix


def new_coupon(rule: CouponRule, number: int, **fields) -> Coupon:
    if rule.code_mode == CouponRule.CodeMode.RANDOM:
        code = random_code(rule)
    else:
        code = rule.format_code(number)
    return Coupon(rule=rule, number=number, code=code, **fields)


def insert_coupons(rule: CouponRule, coupons: list[Coupon]) -> None:
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
                    c.code = random_code(rule)
    raise Refused("coupon_refused", "券码生成冲突过多，请加长券码长度", status=409)
