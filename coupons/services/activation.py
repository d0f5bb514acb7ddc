"""Activation at sale of physical coupons: a rule sold at the counter (`needs_activation`)
generates its coupons not activated; the sale activates them (a code range at the store's
page, or the codes a POS scans, through the API) and a reversed sale deactivates them again.
Redemption refuses a coupon that is not activated (Coupon.usable_q, unusable_reason)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.models import Org
from coupons.models import Coupon, CouponRule
from coupons.services.physical import _parse_range

MAX_COUPONS = 100_000


def _chosen(
    rule: CouponRule | None, code_from: str, code_to: str, codes: Sequence[str]
) -> tuple[QuerySet[Coupon], str]:
    if codes:
        wanted = [c.strip() for c in codes]
        found = set(
            Coupon.objects.filter(
                code__in=wanted, rule__medium=CouponRule.Medium.PHYSICAL
            ).values_list("code", flat=True)
        )
        missing = [c for c in wanted if c not in found]
        if missing:
            raise Refused("coupon_not_found", f"实物券{missing[0]}不存在", 404)
        return Coupon.objects.filter(code__in=wanted), f"券{wanted[0]}等{len(wanted)}张"
    if rule is None:
        raise Refused("invalid_request", "请选择券规则并填写起止券码，或填写券码")
    lo, hi = _parse_range(rule, code_from, code_to)
    if hi - lo + 1 > MAX_COUPONS:
        raise Refused("range_too_large", f"券码范围：一次最多{MAX_COUPONS:,}张")
    qs = Coupon.objects.filter(rule=rule, number__gte=lo, number__lte=hi)
    return qs, f"券码{code_from}～{code_to}"


def activate_coupons(
    *,
    actor,
    store: Org | None,
    rule: CouponRule | None = None,
    code_from: str = "",
    code_to: str = "",
    codes: Sequence[str] = (),
) -> int:
    """The coupons were sold: each not activated one becomes usable. Returns how many."""
    with transaction.atomic():
        coupons, words = _chosen(rule, code_from, code_to, codes)
        activated = coupons.filter(activated=False).update(activated=True)
        if not activated:
            raise Refused("coupons_already_activated", f"{words}：都已激活或无需激活", 409)
        record_audit(
            actor=actor,
            action="coupons.activate",
            obj=rule,
            object_type="coupons.coupon",
            object_repr=words,
            org=store,
            after={"from": code_from, "to": code_to, "codes": list(codes)[:100], "n": activated},
        )
    return activated


def deactivate_coupons(
    *,
    actor,
    store: Org | None,
    rule: CouponRule | None = None,
    code_from: str = "",
    code_to: str = "",
    codes: Sequence[str] = (),
    reason: str = "",
) -> int:
    """The sale was reversed: the activated coupons of rules sold at the counter stop working;
    refused as a whole when one of them was used already. Returns how many."""
    with transaction.atomic():
        coupons, words = _chosen(rule, code_from, code_to, codes)
        coupons = coupons.filter(rule__needs_activation=True)
        deactivated = (
            coupons.filter(activated=True)
            .exclude(status=Coupon.Status.USED)
            .update(activated=False)
        )
        used = coupons.filter(status=Coupon.Status.USED).values_list("code", flat=True)[:1]
        if used:
            raise Refused("coupon_used", f"券{used[0]}已核销，不能撤销售出", 409)
        if not deactivated:
            raise Refused("coupons_not_activated", f"{words}：没有已激活的售出实物券", 409)
        record_audit(
            actor=actor,
            action="coupons.deactivate",
            obj=rule,
            object_type="coupons.coupon",
            object_repr=words,
            org=store,
            after={"from": code_from, "to": code_to, "codes": list(codes)[:100], "n": deactivated},
            note=reason,
        )
    return deactivated
