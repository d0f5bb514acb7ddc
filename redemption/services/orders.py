"""POS orders and redemptions: an order arrives (and picks up the redemptions made against its
number), a redemption is linked to an order, an order is refunded (and its coupons returned)."""

from django.db import transaction

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.order_discounts import Kind as DiscountKind
from couponhub.core.order_discounts import claim_order_discount
from members import services as member_services
from members.models import MemberOrder
from redemption.models import Redemption, RedemptionLine
from redemption.services._common import order_discount_key
from redemption.services.redeem import check_order_fit
from redemption.services.returns import auto_return_order


def link_order(*, redemption: Redemption, order: MemberOrder, actor=None) -> Redemption:
    """关联订单: attach a redemption to a POS order of the same store, once."""
    if order.store_id != redemption.store_id:
        raise Refused("order_other_store", "订单不是本门店的订单，不能关联", status=409)
    if redemption.member_id and order.member_id and order.member_id != redemption.member_id:
        raise Refused("order_other_member", "订单不属于该会员，不能关联", status=409)
    if order.status == MemberOrder.Status.REFUNDED:
        raise Refused("order_refunded", f"订单{order.order_no}已退单，不能关联", status=409)
    live = RedemptionLine.objects.filter(redemption=redemption, returned_at__isnull=True)
    coupons = [line.coupon for line in live.select_related("coupon__rule__exchange_product")]
    check_order_fit(coupons, order=order, verdict="不能关联该订单")
    with transaction.atomic():
        updated = Redemption.objects.filter(pk=redemption.pk, order__isnull=True).update(
            order=order, order_no=order.order_no, link_refusal=""
        )
        if not updated:
            raise Refused("already_linked", "该核销记录已关联订单", status=409)
        if coupons:  # coupons don't stack with a promo code on the order
            client_key, order_no = order_discount_key(order=order)
            claim_order_discount(
                client_key=client_key,
                order_no=order_no,
                kind=DiscountKind.COUPON,
                ref=redemption.redemption_no,
            )
        record_audit(
            actor=actor,
            action="redemption.link_order",
            obj=redemption,
            org=redemption.store,
            after={"order_no": order.order_no},
        )
    redemption.refresh_from_db()
    return redemption


def receive_order(*, actor, source: str, **order) -> tuple[MemberOrder, bool]:
    """A POS order arrives: stored once per source and number, and the redemptions the till
    made against its number before it arrived are linked to it, in one transaction."""
    with transaction.atomic():
        stored, created = member_services.record_order(actor=actor, source=source, **order)
        if created:
            link_pending_redemptions(order=stored)
    return stored, created


def link_pending_redemptions(*, order: MemberOrder) -> int:
    """An order pushed after the till redeemed against its number: link those redemptions whose
    coupons fit it (the same check as a link by hand). One that does not fit stays unlinked, its
    reason kept on it and audited, so the records page shows it unlinked and why. Inside
    receive_order's transaction."""
    pending = list(
        Redemption.objects.select_for_update()
        .filter(store=order.store, order_no=order.order_no, order__isnull=True)
        .order_by("pk")
    )
    if not pending:
        return 0
    lines = RedemptionLine.objects.filter(
        redemption__in=pending, returned_at__isnull=True
    ).select_related("coupon__rule__exchange_product")
    coupons: dict[int, list] = {}
    for line in lines:
        coupons.setdefault(line.redemption_id, []).append(line.coupon)
    linked = 0
    for redemption in pending:
        try:
            check_order_fit(coupons.get(redemption.pk, []), order=order, verdict="未关联该订单")
        except Refused as exc:
            Redemption.objects.filter(pk=redemption.pk).update(link_refusal=exc.message[:300])
            record_audit(
                actor=None,
                action="redemption.link_refused",
                obj=redemption,
                org=redemption.store,
                note=exc.message,
                after={"order_no": order.order_no},
            )
            continue
        Redemption.objects.filter(pk=redemption.pk).update(order=order, link_refusal="")
        linked += 1
    return linked


def refund_order(*, actor, order: MemberOrder, api_client=None) -> list[RedemptionLine]:
    """The POS reports an order refunded: mark it, and for a client that asked for it
    (auto_return) return the coupons redeemed against it, all in one transaction on the locked
    order, so two reports at once end the same way: the second is told it was already done."""
    with transaction.atomic():
        MemberOrder.objects.select_for_update().filter(pk=order.pk).first()
        if not member_services.mark_order_refunded(actor=actor, order=order):
            back = RedemptionLine.objects.filter(
                redemption__order=order, returned_at__isnull=False
            ).count()
            raise Refused(
                "already_refunded", f"订单{order.order_no}已退单，此前已退券{back}张", 409
            )
        if api_client is None or not api_client.auto_return:
            return []
        return auto_return_order(order=order, api_client=api_client)
