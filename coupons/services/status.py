"""Status changes of one coupon: void, freeze, unfreeze; and the nightly expiry.

Each is a conditional UPDATE (`WHERE status IN …`) whose row count is checked.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from coupons.models import Coupon

Status = Coupon.Status


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
