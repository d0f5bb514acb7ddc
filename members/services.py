"""Writes of the members domain.

Balances change only here: each change appends a ledger entry and moves the cached balance on the
Member row in the same transaction, through a conditional UPDATE that refuses to go below zero
(the check constraints on Member and on the entries are the last line).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.models import Org
from couponhub.core.money import to_money
from members.models import (
    Member,
    MemberOrder,
    MemberOrderItem,
    PointsEntry,
    StoredValueEntry,
    UValueEntry,
)


class InsufficientBalance(ValueError):
    """A debit larger than the balance; the message is Chinese and names the balance."""


_LEDGERS = {
    "u_value": (UValueEntry, "U享值"),
    "points": (PointsEntry, "积分"),
    "stored_value": (StoredValueEntry, "储值余额"),
}


def _change_balance(
    *,
    member: Member,
    field: str,
    delta,
    reason: str,
    actor=None,
    store: Org | None = None,
    ref_type: str = "",
    ref_id: str = "",
):
    entry_model, label = _LEDGERS[field]
    if not delta:
        raise ValueError(f"{label}变动不能为0")
    with transaction.atomic():
        qs = Member.objects.filter(pk=member.pk)
        if delta < 0:
            qs = qs.filter(**{f"{field}__gte": -delta})
        if not qs.update(**{field: F(field) + delta}):
            if not Member.objects.filter(pk=member.pk).exists():
                raise Member.DoesNotExist
            raise InsufficientBalance(f"{label}不足")
        balance = Member.objects.filter(pk=member.pk).values_list(field, flat=True).get()
        setattr(member, field, balance)
        return entry_model.objects.create(
            member=member,
            delta=delta,
            balance_after=balance,
            reason=reason,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            store=store,
            ref_type=ref_type,
            ref_id=str(ref_id),
        )


def change_u_value(
    *, member: Member, delta: int, reason: str, actor=None, store=None, ref_type="", ref_id=""
) -> UValueEntry:
    """Add (delta > 0) or deduct (delta < 0) U-value; InsufficientBalance when short."""
    return _change_balance(
        member=member,
        field="u_value",
        delta=int(delta),
        reason=reason,
        actor=actor,
        store=store,
        ref_type=ref_type,
        ref_id=ref_id,
    )


def change_points(
    *, member: Member, delta: int, reason: str, actor=None, store=None, ref_type="", ref_id=""
) -> PointsEntry:
    return _change_balance(
        member=member,
        field="points",
        delta=int(delta),
        reason=reason,
        actor=actor,
        store=store,
        ref_type=ref_type,
        ref_id=ref_id,
    )


def credit_stored_value(
    *,
    member: Member,
    amount: Decimal | str,
    reason: str,
    actor=None,
    store=None,
    ref_type: str = "",
    ref_id: str = "",
) -> StoredValueEntry:
    """Top up stored value (e.g. a redeemed recharge coupon); amount must be positive."""
    amount = to_money(amount)
    if amount <= 0:
        raise ValueError("充值金额必须大于0")
    return _change_balance(
        member=member,
        field="stored_value",
        delta=amount,
        reason=reason,
        actor=actor,
        store=store,
        ref_type=ref_type,
        ref_id=ref_id,
    )


def debit_stored_value(
    *,
    member: Member,
    amount: Decimal | str,
    reason: str,
    actor=None,
    store=None,
    ref_type: str = "",
    ref_id: str = "",
) -> StoredValueEntry:
    amount = to_money(amount)
    if amount <= 0:
        raise ValueError("扣减金额必须大于0")
    return _change_balance(
        member=member,
        field="stored_value",
        delta=-amount,
        reason=reason,
        actor=actor,
        store=store,
        ref_type=ref_type,
        ref_id=ref_id,
    )


# --- registration --------------------------------------------------------------------------------


def next_member_no() -> str:
    last = Member.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return str(10001 + last)


def register_member(
    *,
    actor,
    phone: str,
    card_no: str,
    name: str = "",
    member_no: str = "",
    registration_store: Org | None = None,
    source: str = Member.Source.POS,
    **extra,
) -> Member:
    with transaction.atomic():
        member = Member.objects.create(
            member_no=member_no or next_member_no(),
            phone=phone,
            card_no=card_no,
            name=name,
            registration_store=registration_store,
            source=source,
            **extra,
        )
        record_audit(
            actor=actor,
            action="members.register",
            obj=member,
            after=snapshot(member, ["member_no", "card_no", "name", "source"]),
            org=registration_store,
        )
    return member


# --- orders ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderItemData:
    sku: str
    name: str
    qty: Decimal
    amount: Decimal
    category: str = ""


def record_order(
    *,
    actor,
    order_no: str,
    store: Org,
    traded_at,
    total,
    items: list[OrderItemData],
    member: Member | None = None,
    source: str = "pos",
) -> tuple[MemberOrder, bool]:
    """Store a POS order once (idempotent on source + order_no); returns (order, created)."""
    with transaction.atomic():
        existing = MemberOrder.objects.filter(source=source, order_no=order_no).first()
        if existing:
            return existing, False
        order = MemberOrder.objects.create(
            order_no=order_no,
            source=source,
            store=store,
            member=member,
            traded_at=traded_at,
            total=to_money(total),
            item_count=int(sum(Decimal(i.qty) for i in items)),
        )
        MemberOrderItem.objects.bulk_create(
            MemberOrderItem(
                order=order,
                sku=i.sku,
                name=i.name,
                category=i.category,
                qty=Decimal(i.qty),
                amount=to_money(i.amount),
            )
            for i in items
        )
        record_audit(actor=actor, action="members.order_received", obj=order, org=store)
    return order, True


def mark_order_refunded(*, actor, order: MemberOrder) -> bool:
    """Mark a paid order refunded; False when it already was."""
    with transaction.atomic():
        updated = MemberOrder.objects.filter(pk=order.pk, status=MemberOrder.Status.PAID).update(
            status=MemberOrder.Status.REFUNDED, refunded_at=timezone.now()
        )
        if updated:
            record_audit(actor=actor, action="members.order_refunded", obj=order, org=order.store)
    order.refresh_from_db()
    return bool(updated)
