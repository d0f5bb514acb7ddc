"""Red packets: settings, the account (top-ups), generation over a code selection, clearing,
and the consumer's claim with its payout."""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.money import format_yuan, to_money
from pickup.models import (
    PickupCode,
    PickupOrder,
    RedPacketAccount,
    RedPacketClaim,
    RedPacketEntry,
    RedPacketPayout,
    RedPacketSettings,
)
from pickup.payouts import backend_path, get_backend
from pickup.selectors import describe_selection, select_codes

MAX_RED_PACKET = Decimal("200.00")
MAX_RED_PACKET_CODES = 200_000


def _locked_account() -> RedPacketAccount:
    """The account row, locked until the end of the transaction: every change of balance,
    reservation or claim goes through this one lock, so the arithmetic holds under concurrency."""
    RedPacketAccount.load()
    return RedPacketAccount.objects.select_for_update().get(pk=RedPacketAccount.SINGLETON_PK)


def _ledger(account, *, kind, amount, actor=None, codes=0, note="") -> RedPacketEntry:
    return RedPacketEntry.objects.create(
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        reserved_after=account.reserved,
        codes=codes,
        note=note[:300],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


def save_red_packet_settings(*, actor, instance: RedPacketSettings) -> RedPacketSettings:
    with transaction.atomic():
        before = snapshot(RedPacketSettings.load())
        instance.pk = RedPacketSettings.SINGLETON_PK
        instance.save()
        record_audit(
            actor=actor,
            action="pickup.redpacketsettings.update",
            obj=instance,
            before=before,
            after=snapshot(instance),
        )
    return instance


def top_up_red_packets(*, actor, amount, note: str = "") -> RedPacketAccount:
    amount = to_money(amount)
    if amount <= 0 or amount > Decimal("1000000"):
        raise Refused("pickup_refused", "充值金额：须大于0且不超过1,000,000元")
    with transaction.atomic():
        account = _locked_account()
        before = snapshot(account)
        account.balance += amount
        account.top_ups_total += amount
        account.save(update_fields=["balance", "top_ups_total"])
        _ledger(account, kind=RedPacketEntry.Kind.TOP_UP, amount=amount, actor=actor, note=note)
        record_audit(
            actor=actor,
            action="pickup.redpacket.top_up",
            obj=account,
            before=before,
            after=snapshot(account),
            note=note,
        )
    return account


def allocate_amounts(count: int, low: Decimal, high: Decimal, budget: Decimal, rng=None) -> list:
    """`count` random amounts in [low, high] (to the fen) whose sum never exceeds `budget`.
    Each draw leaves at least `low` for every code still to come."""
    rng = rng or random.SystemRandom()
    low_fen, high_fen, left = int(low * 100), int(high * 100), int(budget * 100)
    if count * low_fen > left:
        raise Refused(
            "pickup_refused",
            f"红包金额：余额{format_yuan(budget)}不足以给{count}个提货码各分配最低{format_yuan(low)}"
            f"（至少需要{format_yuan(to_money(Decimal(count) * low))}）",
        )
    amounts = []
    for i in range(count):
        rest = count - i - 1
        top = min(high_fen, left - rest * low_fen)
        fen = rng.randint(low_fen, top)
        left -= fen
        amounts.append(Decimal(fen) / 100)
    return amounts


def red_packet_candidates(selection: dict):
    """The selected codes that can take a red packet: unused and without one yet."""
    return select_codes(selection).filter(status=PickupCode.Status.UNUSED, red_packet_amount=0)


def generate_red_packets(*, actor, selection: dict, low, high) -> RedPacketEntry:
    """Put a random amount in [low, high] on every selected unused code without a red packet;
    the total is reserved from the balance in the same transaction (never beyond it)."""
    low, high = to_money(low), to_money(high)
    if not any(v not in (None, "") for v in selection.values()):
        raise Refused(
            "pickup_refused", "筛选条件：至少需要一个条件（流水号段、批次、卡券或生成日期）"
        )
    if low <= 0 or high < low or high > MAX_RED_PACKET:
        raise Refused(
            "pickup_refused",
            f"红包金额：最低金额须大于0，最高金额不低于最低金额且不超过{format_yuan(MAX_RED_PACKET)}",
        )
    with transaction.atomic():
        account = _locked_account()
        serials = list(
            red_packet_candidates(selection).order_by("serial").values_list("serial", flat=True)
        )
        if not serials:
            raise Refused("pickup_refused", "筛选条件：没有可分配红包的提货码（未使用且尚无红包）")
        if len(serials) > MAX_RED_PACKET_CODES:
            raise Refused(
                "pickup_refused", f"筛选条件：一次最多为{MAX_RED_PACKET_CODES:,}个提货码生成红包"
            )
        amounts = allocate_amounts(len(serials), low, high, account.balance)
        total = to_money(sum(amounts, Decimal(0)))
        _set_red_packet_amounts(serials, amounts)
        account.balance -= total
        account.reserved += total
        account.save(update_fields=["balance", "reserved"])
        note = f"{describe_selection(selection)}，每个{format_yuan(low)}～{format_yuan(high)}"
        entry = _ledger(
            account,
            kind=RedPacketEntry.Kind.RESERVE,
            amount=total,
            actor=actor,
            codes=len(serials),
            note=note,
        )
        record_audit(
            actor=actor,
            action="pickup.redpacket.generate",
            obj=entry,
            after={
                "selection": selection,
                "low": low,
                "high": high,
                "codes": len(serials),
                "total": total,
                "balance": account.balance,
            },
            note=note,
        )
    return entry


def _set_red_packet_amounts(serials: list[int], amounts: list[Decimal]) -> None:
    # One statement for them all: 200,000 codes in a few seconds, not a CASE per thousand.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PickupCode._meta.db_table} AS c SET red_packet_amount = v.amount "
            "FROM unnest(%s::bigint[], %s::numeric[]) AS v (serial, amount) "
            "WHERE c.serial = v.serial",
            [serials, amounts],
        )


def clear_red_packets(*, actor, codes) -> RedPacketEntry | None:
    """清除: take the red packet off codes whose packet is not claimed; the amount returns to the
    balance."""
    with transaction.atomic():
        account = _locked_account()
        qs = (
            PickupCode.objects.filter(pk__in=codes.values("pk"), red_packet_amount__gt=0)
            .exclude(pk__in=RedPacketClaim.objects.values("code_id"))
            .select_for_update()
        )
        rows = list(qs.values_list("serial", "red_packet_amount"))
        if not rows:
            return None
        total = to_money(sum((a for _s, a in rows), Decimal(0)))
        PickupCode.objects.filter(pk__in=[s for s, _a in rows]).update(red_packet_amount=0)
        account.balance += total
        account.reserved -= total
        account.save(update_fields=["balance", "reserved"])
        first, last = rows[0][0], rows[-1][0]
        entry = _ledger(
            account,
            kind=RedPacketEntry.Kind.RELEASE,
            amount=total,
            actor=actor,
            codes=len(rows),
            note=f"清除红包：流水号{first}～{last}中的{len(rows)}个",
        )
        record_audit(
            actor=actor,
            action="pickup.redpacket.clear",
            obj=entry,
            before={"codes": [[s, a] for s, a in rows[:1000]]},
            after={"total": total, "balance": account.balance},
        )
    return entry


def _claims_since(phone: str, card_type_id: int, since) -> int:
    qs = RedPacketClaim.objects.filter(user_phone=phone, card_type_id=card_type_id)
    if since is not None:
        qs = qs.filter(claimed_at__gte=since)
    return qs.count()


def claim_red_packet(
    *, order: PickupOrder, client_ip: str | None = None, location: str = ""
) -> RedPacketClaim:
    """The consumer of `order` claims the red packet on its code: once per code, within the
    daily / monthly / lifetime limits per user (phone) and card type. The reserved amount moves
    to spending and a pending payout is recorded for the payment backend."""
    config = RedPacketSettings.load()
    if not config.enabled:
        raise Refused("pickup_refused", "红包活动已结束")
    with transaction.atomic():
        account = _locked_account()
        order = PickupOrder.objects.select_related("code").get(pk=order.pk)
        code = order.code
        if order.status == PickupOrder.Status.CANCELLED or order.deleted_at is not None:
            raise Refused("pickup_refused", "订单已取消，不能领取红包")
        if code.red_packet_amount <= 0:
            raise Refused("pickup_refused", "该提货码没有红包")
        if RedPacketClaim.objects.filter(code=code).exists():
            raise Refused("pickup_refused", "该提货码的红包已领取，不能重复领取")
        now = timezone.localtime()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        for label, limit, since in [
            ("每日", config.daily_limit, day),
            ("每月", config.monthly_limit, month),
            ("终身", config.lifetime_limit, None),
        ]:
            if limit and _claims_since(order.consumer_phone, order.card_type_id, since) >= limit:
                raise Refused(
                    "pickup_refused", f"已达到{label}领取上限（同一卡券{limit}个），不能再领取红包"
                )
        amount = code.red_packet_amount
        claim = RedPacketClaim.objects.create(
            code=code,
            order=order,
            card_type_id=order.card_type_id,
            user_phone=order.consumer_phone,
            user_name=order.consumer_name,
            amount=amount,
            client_ip=client_ip,
            location=location[:120],
        )
        account.reserved -= amount
        account.spent_total += amount
        account.save(update_fields=["reserved", "spent_total"])
        _ledger(
            account,
            kind=RedPacketEntry.Kind.CLAIM,
            amount=amount,
            codes=1,
            note=f"提货码{code.code}，订单{order.order_no}",
        )
        payout = RedPacketPayout.objects.create(
            claim=claim, amount=amount, payee=order.consumer_phone, backend=backend_path()
        )
        record_audit(
            actor=None,
            action="pickup.redpacket.claim",
            obj=claim,
            after={**snapshot(claim), "payout": payout.pk},
        )

        def submit():
            result = get_backend().submit(payout)
            RedPacketPayout.objects.filter(pk=payout.pk).update(
                status=result.status, reference=result.reference[:100], error=result.error[:300]
            )

        transaction.on_commit(submit)
    return claim
