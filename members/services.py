"""Writes of the members domain.

Balances change only here: each change appends a ledger entry and moves the cached balance on the
Member row in the same transaction, through a conditional UPDATE that refuses to go below zero
(the check constraints on Member and on the entries are the last line).
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Org
from couponhub.core.money import to_money
from members.models import (
    Member,
    MemberImport,
    MemberOrder,
    MemberOrderItem,
    PointsEntry,
    StoredValueEntry,
    UValueEntry,
)


class InsufficientBalance(Refused):
    """A debit larger than the balance (callers that pay with a ledger name the price)."""

    def __init__(self, label: str):
        super().__init__("insufficient_balance", f"{label}不足", 409)


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
        raise Refused("invalid_amount", f"{label}变动不能为0")
    with transaction.atomic():
        qs = Member.objects.filter(pk=member.pk)
        if delta < 0:
            qs = qs.filter(**{f"{field}__gte": -delta})
        if not qs.update(**{field: F(field) + delta}):
            if not Member.objects.filter(pk=member.pk).exists():
                raise Member.DoesNotExist
            raise InsufficientBalance(label)
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


# --- import ---------------------------------------------------------------------------------------

IMPORT_HEADERS = {
    "手机号": "phone",
    "会员卡号": "card_no",
    "姓名": "name",
    "性别": "gender",
    "生日": "birthday",
    "会员等级": "level",
    "注册门店编码": "store_code",
    "会员ID": "member_no",
}
GENDERS = {"男": "M", "女": "F", "": "U", "未知": "U", "M": "M", "F": "F"}


def start_member_import(*, actor, upload):
    """Store the upload and queue the import job (nothing is written to members yet)."""
    with transaction.atomic():
        imp = MemberImport(created_by=actor, original_name=upload.name[:200])
        imp.file.save(upload.name, upload, save=False)
        imp.job = enqueue_job(
            kind="members.import",
            title=f"会员导入 {upload.name}"[:200],
            owner=actor,
            params={},
        )
        imp.save()
        record_audit(actor=actor, action="members.import_start", obj=imp)
    return imp


def parse_member_rows(rows) -> tuple[list[dict], list[dict]]:
    """Validate every row; returns (clean rows, errors [{row, error}]). Writes nothing."""
    rows = iter(rows)
    header = next(rows, None)
    if not header:
        return [], [{"row": 1, "error": "文件为空"}]
    columns = [IMPORT_HEADERS.get(h.strip()) for h in header]
    missing = [
        name
        for name, key in IMPORT_HEADERS.items()
        if key in ("phone", "card_no") and key not in columns
    ]
    if missing:
        return [], [{"row": 1, "error": f"缺少列：{'、'.join(missing)}"}]
    stores = {o.code: o.pk for o in Org.objects.filter(kind=Org.Kind.STORE)}
    clean, errors = [], []
    seen: dict[str, dict[str, int]] = {"phone": {}, "card_no": {}, "member_no": {}}
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        data = {
            key: (row[i] if i < len(row) else "").strip() for i, key in enumerate(columns) if key
        }
        record, problems = _parse_member_row(data, number, seen=seen, stores=stores)
        if problems:
            errors.append({"row": number, "error": "；".join(problems)})
            continue
        clean.append(record)
    errors.extend(_already_members(clean))
    errors.sort(key=lambda e: e["row"])
    bad = {e["row"] for e in errors}
    return [r for r in clean if r["row"] not in bad], errors


def _parse_member_row(
    data: dict[str, str], number: int, *, seen: dict[str, dict[str, int]], stores: dict[str, int]
) -> tuple[dict | None, list[str]]:
    """One row on its own and against the rows above it (`seen`: value → first row number).

    Returns (the member's fields, []) or (None, the problems)."""
    seen_phone, seen_card, seen_no = seen["phone"], seen["card_no"], seen["member_no"]
    problems = []
    phone, card_no = data.get("phone", ""), data.get("card_no", "")
    if not re.fullmatch(r"1\d{10}", phone):
        problems.append(f"手机号“{phone}”格式不正确，应为11位数字")
    elif phone in seen_phone:
        problems.append(f"手机号{phone}与第{seen_phone[phone]}行重复")
    if not re.fullmatch(r"[0-9A-Za-z]{4,30}", card_no):
        problems.append(f"会员卡号“{card_no}”格式不正确")
    elif card_no in seen_card:
        problems.append(f"会员卡号{card_no}与第{seen_card[card_no]}行重复")
    member_no = data.get("member_no", "")
    if member_no and member_no in seen_no:
        problems.append(f"会员ID{member_no}与第{seen_no[member_no]}行重复")
    gender = GENDERS.get(data.get("gender", ""))
    if gender is None:
        problems.append(f"性别“{data['gender']}”不正确，应为男/女")
    birthday = None
    if data.get("birthday"):
        try:
            birthday = datetime.date.fromisoformat(data["birthday"][:10].replace("/", "-"))
        except ValueError:
            problems.append(f"生日“{data['birthday']}”不是有效日期（如1990-05-01）")
    store_id = None
    if data.get("store_code"):
        store_id = stores.get(data["store_code"])
        if store_id is None:
            problems.append(f"注册门店编码“{data['store_code']}”不存在")
    seen_phone.setdefault(phone, number)
    seen_card.setdefault(card_no, number)
    if member_no:
        seen_no.setdefault(member_no, number)
    if problems:
        return None, problems
    return {
        "row": number,
        "phone": phone,
        "card_no": card_no,
        "member_no": member_no,
        "name": data.get("name", "")[:50],
        "gender": gender,
        "birthday": birthday,
        "level": data.get("level", "")[:20],
        "registration_store_id": store_id,
    }, []


def _already_members(clean: list[dict]) -> list[dict]:
    """Errors of the rows whose phone, card number or member ID a member already has (queried in
    chunks of 5,000 rows)."""
    errors = []
    for start in range(0, len(clean), 5000):
        chunk = clean[start : start + 5000]
        taken_phones = set(
            Member.objects.filter(phone__in=[r["phone"] for r in chunk]).values_list(
                "phone", flat=True
            )
        )
        taken_cards = set(
            Member.objects.filter(card_no__in=[r["card_no"] for r in chunk]).values_list(
                "card_no", flat=True
            )
        )
        taken_nos = set(
            Member.objects.filter(
                member_no__in=[r["member_no"] for r in chunk if r["member_no"]]
            ).values_list("member_no", flat=True)
        )
        for r in chunk:
            problems = []
            if r["phone"] in taken_phones:
                problems.append(f"手机号{r['phone']}已是会员")
            if r["card_no"] in taken_cards:
                problems.append(f"会员卡号{r['card_no']}已存在")
            if r["member_no"] in taken_nos:
                problems.append(f"会员ID{r['member_no']}已存在")
            if problems:
                errors.append({"row": r["row"], "error": "；".join(problems)})
    return errors


def import_members(*, actor, rows: list[dict]) -> int:
    """Create all the (already validated) members in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        base = (Member.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 10001
        taken = set()
        members = []
        for i, r in enumerate(rows):
            member_no = r["member_no"] or f"I{base + i}"
            taken.add(member_no)
            members.append(
                Member(
                    member_no=member_no,
                    phone=r["phone"],
                    card_no=r["card_no"],
                    name=r["name"],
                    gender=r["gender"],
                    birthday=r["birthday"],
                    level=r["level"],
                    registration_store_id=r["registration_store_id"],
                    source=Member.Source.IMPORT,
                    registered_at=now,
                )
            )
        Member.objects.bulk_create(members, batch_size=2000)
        record_audit(actor=actor, action="members.import", after={"count": len(members)})
    return len(members)
