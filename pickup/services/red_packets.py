"""Red packets: settings, the account (top-ups), generation over a code selection, clearing,
and the consumer's claim with its payout."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job
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
RED_PACKET_CHUNK = 20_000


def _locked_account() -> RedPacketAccount:
    """The account row, locked until the end of the transaction: every change of balance,
    reservation or claim goes through this one lock, so the arithmetic holds under concurrency."""
    RedPacketAccount.load()
    return RedPacketAccount.objects.select_for_update().get(pk=RedPacketAccount.SINGLETON_PK)


def _ledger(account, *, kind, amount, actor=None, codes=0, note="", job=None) -> RedPacketEntry:
    return RedPacketEntry.objects.create(
        job=job,
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


def allocate_amounts(
    count: int, low: Decimal, high: Decimal, budget: Decimal, rng=None, *, later: int = 0
) -> list:
    """`count` random amounts in [low, high] (to the fen) whose sum never exceeds `budget`.
    Each draw leaves at least `low` for every code still to come, `later` codes after these
    included (the chunks of a generation still to run)."""
    rng = rng or random.SystemRandom()
    low_fen, high_fen, left = int(low * 100), int(high * 100), int(budget * 100)
    if (count + later) * low_fen > left:
        raise Refused(
            "pickup_refused",
            _short_of_balance(count + later, low, budget),
        )
    amounts = []
    for i in range(count):
        rest = count - i - 1 + later
        top = min(high_fen, left - rest * low_fen)
        fen = rng.randint(low_fen, top)
        left -= fen
        amounts.append(Decimal(fen) / 100)
    return amounts


def _short_of_balance(count: int, low: Decimal, balance: Decimal) -> str:
    return (
        f"红包金额：红包账户可用余额{format_yuan(balance)}不足以给{count:,}个提货码"
        f"各分配最低{format_yuan(low)}（至少需要{format_yuan(Decimal(count) * low)}），"
        "请先充值或缩小筛选范围"
    )


def red_packet_candidates(selection: dict):
    """The selected codes that can take a red packet: unused and without one yet."""
    return select_codes(selection).filter(status=PickupCode.Status.UNUSED, red_packet_amount=0)


@dataclass(frozen=True)
class RedPacketPlan:
    """What a generation over a selection would do: how many codes, the least and most it
    reserves."""

    selection: dict
    low: Decimal
    high: Decimal
    count: int
    min_total: Decimal
    max_total: Decimal
    description: str


def _check_request(selection: dict, low, high) -> tuple[Decimal, Decimal]:
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
    return low, high


def plan_red_packets(*, selection: dict, low, high, balance: Decimal | None = None):
    """Check a generation request against the codes and the balance; refused with the reason
    (no condition, amounts out of range, no code can take a red packet, too many codes, the
    balance does not cover the lowest amount for every code)."""
    low, high = _check_request(selection, low, high)
    count = red_packet_candidates(selection).count()
    if not count:
        raise Refused(
            "pickup_refused",
            "筛选条件：所选范围内没有可分配红包的提货码（须未使用且尚无红包）",
        )
    if count > MAX_RED_PACKET_CODES:
        raise Refused(
            "pickup_refused",
            f"筛选条件：所选范围有{count:,}个提货码，一次最多为{MAX_RED_PACKET_CODES:,}个生成红包",
        )
    if balance is None:
        balance = RedPacketAccount.load().balance
    if Decimal(count) * low > balance:
        raise Refused("pickup_refused", _short_of_balance(count, low, balance))
    return RedPacketPlan(
        selection=selection,
        low=low,
        high=high,
        count=count,
        min_total=to_money(Decimal(count) * low),
        max_total=to_money(Decimal(count) * high),
        description=describe_selection(selection),
    )


def start_red_packet_generation(*, actor, selection: dict, low, high) -> Job:
    """Check the request against the balance now (under the account's lock) and queue the
    generation as a background job; the page follows its progress bar."""
    with transaction.atomic():
        account = _locked_account()
        plan = plan_red_packets(selection=selection, low=low, high=high, balance=account.balance)
        job = enqueue_job(
            kind="pickup.generate_red_packets",
            title=f"生成红包：{plan.description}，{plan.count:,}个提货码，"
            f"每个{format_yuan(plan.low)}～{format_yuan(plan.high)}",
            owner=actor if getattr(actor, "is_authenticated", False) else None,
            params={"selection": selection, "low": str(plan.low), "high": str(plan.high)},
            total=plan.count,
        )
        record_audit(
            actor=actor,
            action="pickup.redpacket.generate_start",
            obj=job,
            after={
                "selection": selection,
                "low": plan.low,
                "high": plan.high,
                "codes": plan.count,
                "balance": account.balance,
            },
            note=job.title,
        )
    return job


@dataclass(frozen=True)
class Generated:
    codes: int
    amount: Decimal


def generate_red_packets(
    *, actor, selection: dict, low, high, job: Job | None = None, progress=None
) -> Generated:
    """Put a random amount in [low, high] on every selected unused code without a red packet,
    RED_PACKET_CHUNK codes per transaction: each chunk locks the account, reserves its total from
    the balance (never beyond it, leaving the lowest amount for every code still to come) and
    writes a ledger entry (with `job`) and an audit entry. A chunk is whole or absent, so a re-run
    of the job goes on with the codes still without a red packet. `progress(done, total)` is
    called after each chunk's commit."""
    low, high = _check_request(selection, low, high)
    done = amount = 0
    if job is not None:
        before = RedPacketEntry.objects.filter(job=job).aggregate(
            codes=Sum("codes"), amount=Sum("amount")
        )
        done, amount = before["codes"] or 0, before["amount"] or Decimal(0)
    left = red_packet_candidates(selection).count()
    total = done + left
    if not left and not done:
        raise Refused(
            "pickup_refused",
            "筛选条件：所选范围内没有可分配红包的提货码（须未使用且尚无红包）",
        )
    if left > MAX_RED_PACKET_CODES:
        raise Refused(
            "pickup_refused",
            f"筛选条件：所选范围有{left:,}个提货码，一次最多为{MAX_RED_PACKET_CODES:,}个生成红包",
        )
    description = describe_selection(selection)
    while left > 0:
        with transaction.atomic():
            account = _locked_account()
            serials = list(
                red_packet_candidates(selection)
                .order_by("serial")
                .values_list("serial", flat=True)[:RED_PACKET_CHUNK]
            )
            if not serials:
                break
            later = max(0, left - len(serials))
            amounts = allocate_amounts(len(serials), low, high, account.balance, later=later)
            put = _set_red_packet_amounts(serials, amounts)
            if not put:  # every code of the chunk was used meanwhile: on to the next ones
                left = max(0, left - len(serials))
                continue
            chunk_total = to_money(sum(put, Decimal(0)))
            account.balance -= chunk_total
            account.reserved += chunk_total
            account.save(update_fields=["balance", "reserved"])
            note = f"{description}，每个{format_yuan(low)}～{format_yuan(high)}" + (
                f"（任务{job.pk}）" if job else ""
            )
            entry = _ledger(
                account,
                kind=RedPacketEntry.Kind.RESERVE,
                amount=chunk_total,
                actor=actor,
                codes=len(put),
                note=note,
                job=job,
            )
            record_audit(
                actor=actor,
                action="pickup.redpacket.generate",
                obj=entry,
                after={
                    "selection": selection,
                    "low": low,
                    "high": high,
                    "codes": len(put),
                    "serials": [serials[0], serials[-1]],
                    "total": chunk_total,
                    "balance": account.balance,
                    "job": job.pk if job else None,
                },
                note=note,
            )
        done += len(put)
        amount += chunk_total
        left = max(0, left - len(serials))
        if progress:
            progress(done, max(total, done))
    return Generated(codes=done, amount=to_money(amount))


def _set_red_packet_amounts(serials: list[int], amounts: list[Decimal]) -> list[Decimal]:
    """One statement for the chunk; only codes still unused and without a red packet take one
    (a consumer may have used a code meanwhile). Returns the amounts put on codes."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PickupCode._meta.db_table} AS c SET red_packet_amount = v.amount "
            "FROM unnest(%s::bigint[], %s::numeric[]) AS v (serial, amount) "
            "WHERE c.serial = v.serial AND c.status = %s AND c.red_packet_amount = 0 "
            "RETURNING v.amount",
            [serials, amounts, PickupCode.Status.UNUSED],
        )
        return [row[0] for row in cursor.fetchall()]


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
