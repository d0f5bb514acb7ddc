"""Returns (退券): a redeemed coupon goes back to unused, once per redemption line; a returned
recharge coupon takes its top-up back from the member's stored value."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.events import record_event
from couponhub.core.models import Org
from couponhub.core.order_discounts import Kind as DiscountKind
from couponhub.core.order_discounts import lock_order, release_order_discount
from coupons.models import Coupon, CouponRule
from members import services as member_services
from members.models import MemberOrder
from redemption.models import Redemption, RedemptionLine
from redemption.services._common import client_label, order_discount_key

Status = Coupon.Status


def return_redemption_line(
    *, line: RedemptionLine, actor=None, api_client=None, note: str = ""
) -> RedemptionLine:
    """退券: once per line; the coupon goes back to unused (past valid_to it shows expired)."""
    now = timezone.now()
    redemption = line.redemption
    client_key, order_no = order_discount_key(
        order=redemption.order, api_client=redemption.api_client, order_no=redemption.order_no
    )
    with transaction.atomic():
        lock_order(client_key, order_no)  # before the line's and the coupon's rows (lock_order)
        updated = RedemptionLine.objects.filter(pk=line.pk, returned_at__isnull=True).update(
            returned_at=now,
            returned_by=actor,
            returned_via=(api_client.name if api_client else "")[:100],
        )
        if not updated:
            raise Refused(
                "already_returned", f"券{line.coupon.code}：已退券，不能重复退券", status=409
            )
        coupon = line.coupon
        back = Coupon.objects.filter(pk=coupon.pk, status=Status.USED).update(
            status=Status.UNUSED, used_at=None, used_store=None
        )
        if not back:
            raise Refused(
                "coupon_not_used", f"券{coupon.code}：不是已核销状态，不能退券", status=409
            )
        if coupon.rule.benefit == CouponRule.Benefit.RECHARGE:
            holder = coupon.member or redemption.member
            try:
                member_services.debit_stored_value(
                    member=holder,
                    amount=coupon.rule.face_value,
                    reason=f"充值券退券 {coupon.code}",
                    actor=actor,
                    store=redemption.store,
                    ref_type="redemption",
                    ref_id=redemption.redemption_no,
                )
            except member_services.InsufficientBalance:
                raise Refused(
                    "stored_value_insufficient",
                    f"券{coupon.code}：会员储值余额不足，不能退回充值券",
                    status=409,
                ) from None
        if not RedemptionLine.objects.filter(
            redemption=redemption, returned_at__isnull=True
        ).exists():  # its last coupon came back: the order may take a promo code again
            release_order_discount(
                client_key=client_key,
                order_no=order_no,
                kind=DiscountKind.COUPON,
                ref=redemption.redemption_no,
            )
        record_audit(
            actor=actor or client_label(api_client),
            action="redemption.return",
            obj=redemption,
            org=redemption.store,
            before={"coupon": coupon.code, "status": Status.USED},
            after={"coupon": coupon.code, "status": Status.UNUSED},
            note=note,
        )
        record_event(
            "coupon.returned",
            {
                "redemption_no": redemption.redemption_no,
                "store": redemption.store.code,
                "code": coupon.code,
            },
            org=redemption.store,
        )
    line.refresh_from_db()
    return line


def return_lines(*, lines: Sequence[RedemptionLine], actor=None, api_client=None, note=""):
    """Return several lines in one transaction (API: a redemption_no or a list of codes)."""
    with transaction.atomic():
        return [
            return_redemption_line(line=line, actor=actor, api_client=api_client, note=note)
            for line in lines
        ]


def auto_return_order(*, order: MemberOrder, api_client) -> list[RedemptionLine]:
    """The POS reported the order refunded: return the coupons redeemed against it."""
    lines = list(
        RedemptionLine.objects.filter(redemption__order=order, returned_at__isnull=True)
        .select_related("coupon__rule", "redemption__store", "redemption__member")
        .order_by("pk")
    )
    note = f"订单{order.order_no}退单自动退券"
    return return_lines(lines=lines, api_client=api_client, note=note)


def return_coupons(
    *, store: Org, redemption_no: str = "", codes: Sequence[str] = (), api_client=None
) -> list[RedemptionLine]:
    """退券 through the API: every open line of one redemption of this store, or the lines of
    these coupon codes redeemed at this store; all or nothing. A coupon returned before is
    answered as such (已退券), whoever returned it."""
    lines = RedemptionLine.objects.filter(
        redemption__store=store, returned_at__isnull=True
    ).select_related("coupon__rule", "redemption__store", "redemption__member")
    if redemption_no:
        if not Redemption.objects.filter(redemption_no=redemption_no, store=store).exists():
            raise Refused("redemption_not_found", f"核销单{redemption_no}不存在", 404)
        chosen = list(lines.filter(redemption__redemption_no=redemption_no))
        if not chosen:
            raise Refused("already_returned", f"核销单{redemption_no}的券已全部退回（已退券）", 409)
    elif codes:
        codes = list(dict.fromkeys(codes))
        chosen = list(lines.filter(coupon__code__in=codes))
        found = {line.coupon.code for line in chosen}
        for code in codes:
            if code in found:
                continue
            here = RedemptionLine.objects.filter(redemption__store=store, coupon__code=code)
            if here.exists():
                raise Refused("already_returned", f"券{code}：已退券，不能重复退券", 409)
            if not Coupon.objects.filter(code=code).exists():
                raise Refused("coupon_not_found", f"券{code}：券码不存在", 404)
            raise Refused("coupon_not_redeemed", f"券{code}：本店没有该券的核销记录", 409)
    else:
        raise Refused("invalid_request", "请提供 redemption_no 或 codes", 422)
    return return_lines(lines=chosen, api_client=api_client)
