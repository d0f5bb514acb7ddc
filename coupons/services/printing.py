"""Printing physical coupons: a card-sheet job for a code range of a physical rule."""

from __future__ import annotations

from django.db import transaction

from couponhub.core.audit import record_audit
from couponhub.core.cardsheets import Layout
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job
from coupons.models import Coupon, CouponRule
from coupons.services.physical import _parse_range


def start_coupon_print(
    *,
    actor,
    rule: CouponRule,
    code_from: str,
    code_to: str,
    layout: dict,
    notes: str = "",
    package: bool = False,
) -> Job:
    """Queue the card sheets of the rule's physical coupons from `code_from` to `code_to`; the
    QR code carries the coupon code, a recharge coupon's number sits under the scratch-off."""
    if not rule.is_physical:
        raise Refused("coupon_refused", f"券规则{rule.code}不是实物券，不能印刷", status=409)
    Layout.from_params(layout).grid()
    lo, hi = _parse_range(rule, code_from, code_to)
    total = Coupon.objects.filter(rule=rule, number__gte=lo, number__lte=hi).count()
    with transaction.atomic():
        job = enqueue_job(
            kind="coupons.print_cards",
            title=f"印刷实物券：{rule.code} {code_from}～{code_to}"[:200],
            owner=actor if getattr(actor, "is_authenticated", False) else None,
            params={
                "rule_id": rule.pk,
                "from": lo,
                "to": hi,
                "layout": layout,
                "notes": notes,
                "package": package,
            },
            total=total,
        )
        record_audit(
            actor=actor,
            action="coupons.print_cards",
            obj=rule,
            after={"from": code_from, "to": code_to, "cards": total, "package": package},
        )
    return job
