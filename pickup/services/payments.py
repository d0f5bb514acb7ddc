"""Top-ups of the SMS and red-packet accounts paid through the payment backend
(`pickup.payment_backends`, WeChat Pay Native in production): the order, its QR code, and the
verified payment notice that, exactly once, raises the account's balance."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.money import format_yuan, to_money
from couponhub.core.sms import top_up_sms_account
from pickup import payment_backends
from pickup.models import TopUpOrder
from pickup.services.red_packets import top_up_red_packets

MAX_TOP_UP = Decimal("1000000.00")
DESCRIPTIONS = {
    TopUpOrder.Purpose.SMS: "短信账户充值",
    TopUpOrder.Purpose.RED_PACKETS: "红包账户充值",
}


def new_out_trade_no() -> str:
    """T + local date and time + 10 random digits: 25 characters, WeChat's 6-32 allowed."""
    return f"T{timezone.localtime():%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


def start_top_up(*, actor, purpose: str, amount, notify_url: str, note: str = "") -> TopUpOrder:
    """Create a pending top-up order and ask the payment backend for its QR code. The order is
    committed first, then the provider is called outside any transaction; a provider that does
    not take the order leaves it failed with the reason, and the caller sees that reason."""
    if purpose not in TopUpOrder.Purpose.values:
        raise Refused("pickup_refused", "充值账户：请选择短信账户或红包账户")
    try:
        amount = to_money(Decimal(str(amount).strip()))
        if not amount.is_finite():
            raise ValueError(amount)
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise Refused("pickup_refused", "充值金额：请填写以元为单位的金额，如100.00") from exc
    if amount <= 0 or amount > MAX_TOP_UP:
        raise Refused("pickup_refused", f"充值金额：须大于0且不超过{format_yuan(MAX_TOP_UP)}")
    with transaction.atomic():
        order = TopUpOrder.objects.create(
            out_trade_no=new_out_trade_no(),
            purpose=purpose,
            amount=amount,
            backend=payment_backends.backend_path(),
            note=note[:200],
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record_audit(
            actor=actor,
            action="pickup.topup.create",
            obj=order,
            after=snapshot(order),
            note=f"{DESCRIPTIONS[purpose]}{format_yuan(amount)}",
        )
    try:
        code_url = payment_backends.get_backend().create_native_order(
            out_trade_no=order.out_trade_no,
            amount_fen=order.amount_fen,
            description=f"{DESCRIPTIONS[purpose]}{format_yuan(amount)}",
            notify_url=notify_url,
        )
    except payment_backends.PaymentError as exc:
        TopUpOrder.objects.filter(pk=order.pk, status=TopUpOrder.Status.PENDING).update(
            status=TopUpOrder.Status.FAILED, error=str(exc)[:300]
        )
        raise Refused("payment_failed", f"充值订单{order.out_trade_no}：{exc}", 502) from exc
    TopUpOrder.objects.filter(pk=order.pk).update(code_url=code_url[:300])
    order.refresh_from_db()
    return order


def handle_payment_notice(*, headers: dict[str, str], body: bytes) -> TopUpOrder:
    """A payment notice from the provider: verified by the backend, then the order it names is
    marked paid and its account topped up, in one transaction, once. A repeated notice (the
    provider retries until answered, and may send two at once) finds the order paid and changes
    nothing. Refused: a notice that does not verify, an unknown order, an amount that differs."""
    try:
        notice = payment_backends.get_backend().parse_notice(headers=headers, body=body)
    except payment_backends.NoticeRejected as exc:
        raise Refused("notice_rejected", f"支付通知：{exc}", 401) from exc
    order = TopUpOrder.objects.filter(out_trade_no=notice.out_trade_no).first()
    if order is None:
        raise Refused("order_not_found", f"支付通知：充值订单{notice.out_trade_no[:32]}不存在", 404)
    if notice.trade_state != "SUCCESS":
        return order  # not paid (closed, refunded…): nothing to credit
    if notice.amount_fen != order.amount_fen:
        raise Refused(
            "amount_mismatch",
            f"支付通知：充值订单{order.out_trade_no}的支付金额{notice.amount_fen / 100:.2f}元"
            f"与订单金额{order.amount}元不符",
            400,
        )
    with transaction.atomic():
        # The conditional UPDATE is the once: a second notice waits on this row's lock and then
        # finds the order no longer pending.
        paid = TopUpOrder.objects.filter(
            pk=order.pk, status__in=[TopUpOrder.Status.PENDING, TopUpOrder.Status.FAILED]
        ).update(
            status=TopUpOrder.Status.PAID,
            transaction_id=notice.transaction_id[:64] or "-",
            paid_at=notice.paid_at or timezone.now(),
            error="",
        )
        order.refresh_from_db()
        if not paid:
            return order
        note = f"微信支付充值，订单{order.out_trade_no}，交易号{order.transaction_id}"
        if order.purpose == TopUpOrder.Purpose.SMS:
            top_up_sms_account(actor=order.actor, amount=order.amount, note=note)
        else:
            top_up_red_packets(actor=order.actor, amount=order.amount, note=note)
        record_audit(
            actor=None,
            action="pickup.topup.paid",
            obj=order,
            after=snapshot(order),
            note=note,
        )
    return order


def simulate_payment(*, actor, order: TopUpOrder) -> TopUpOrder:
    """Development: pay an order of the recording backend through a notice it signs itself, so
    the same verification and crediting run as for a real payment."""
    backend = payment_backends.get_backend()
    if not backend.can_simulate or order.backend != payment_backends.backend_path():
        raise Refused("pickup_refused", "模拟支付：只有开发环境的记录支付通道可以模拟支付", 403)
    with transaction.atomic():
        record_audit(
            actor=actor,
            action="pickup.topup.simulate",
            obj=order,
            note="开发环境模拟支付",
        )
    headers, body = backend.simulate_notice(
        out_trade_no=order.out_trade_no, amount_fen=order.amount_fen
    )
    return handle_payment_notice(headers=headers, body=body)
