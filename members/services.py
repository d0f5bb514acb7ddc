"""Writes of the members domain.

Balances change only here: each change appends a ledger entry and moves the cached balance on the
Member row in the same transaction, through a conditional UPDATE that refuses to go below zero
(the check constraints on Member and on the entries are the last line).
"""

import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from couponhub.core import staging
from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Org
from couponhub.core.money import to_money
from couponhub.core.sms import check_verification_code, send_verification_code
from members.models import (
    Member,
    MemberImport,
    MemberOrder,
    MemberOrderItem,
    MemberTag,
    PointsEntry,
    StoredValueEntry,
    UValueEntry,
)
from products.selectors import categories_of_skus


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
        # an item sent without its category takes its food's from the product master; an
        # unknown SKU is kept as the till sent it (the till is the truth of what was sold)
        master = categories_of_skus({i.sku for i in items if not i.category})
        MemberOrderItem.objects.bulk_create(
            MemberOrderItem(
                order=order,
                sku=i.sku,
                name=i.name,
                category=i.category or master.get(i.sku, ""),
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


# --- the member detail page: profile, phone change, manual adjustments ----------------------------

PROFILE_FIELDS = ["name", "gender", "birthday", "phone", "sms_opt_out"]
PHONE_CHANGE_PURPOSE = "member_phone_change"
LEDGER_UNITS = {"u_value": "U", "points": "分", "stored_value": "元"}


def update_member_profile(
    *, actor, member: Member, name: str, gender: str, birthday, sms_opt_out: bool = False
) -> Member:
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        before = snapshot(member, PROFILE_FIELDS)
        member.name, member.gender, member.birthday = name, gender, birthday
        member.sms_opt_out = sms_opt_out
        member.save(update_fields=["name", "gender", "birthday", "sms_opt_out"])
        record_audit(
            actor=actor,
            action="members.update_profile",
            obj=member,
            before=before,
            after=snapshot(member, PROFILE_FIELDS),
        )
    return member


def _check_new_phone(member: Member, new_phone: str) -> None:
    if not _PHONE.fullmatch(new_phone):
        raise Refused("bad_phone", f"新手机号“{new_phone}”不是11位手机号码")
    if new_phone == member.phone:
        raise Refused("same_phone", "新手机号与当前手机号相同", 409)
    if Member.objects.filter(phone=new_phone).exclude(pk=member.pk).exists():
        raise Refused("phone_taken", f"手机号{new_phone}已是其他会员的手机号", 409)


def send_phone_change_code(*, actor, member: Member, new_phone: str) -> None:
    """Text a code to the new phone: the member proves they hold it before it replaces the old."""
    new_phone = new_phone.strip()
    _check_new_phone(member, new_phone)
    send_verification_code(
        phone=new_phone,
        purpose=PHONE_CHANGE_PURPOSE,
        subject=f"member:{member.pk}",
        text="您正在更换会员手机号，验证码为{code}，5分钟内有效。如非本人操作请忽略。",
    )


def change_member_phone(*, actor, member: Member, new_phone: str, code: str) -> Member:
    """The new phone's code is checked (and a wrong try counted) before the change's own
    transaction; then the phone is changed with its audit entry."""
    new_phone = new_phone.strip()
    _check_new_phone(member, new_phone)
    check_verification_code(
        phone=new_phone, purpose=PHONE_CHANGE_PURPOSE, subject=f"member:{member.pk}", code=code
    )
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        before = snapshot(member, ["phone"])
        if Member.objects.filter(phone=new_phone).exclude(pk=member.pk).exists():
            raise Refused("phone_taken", f"手机号{new_phone}已是其他会员的手机号", 409)
        member.phone = new_phone
        member.save(update_fields=["phone"])
        record_audit(
            actor=actor,
            action="members.change_phone",
            obj=member,
            before=before,
            after=snapshot(member, ["phone"]),
            note="新手机号短信验证通过",
        )
    return member


def adjust_balance(
    *, actor, member: Member, ledger: str, delta, reason: str, store: Org | None = None
):
    """A manual adjustment of one ledger (U-value, points or stored value) with its reason."""
    reason = reason.strip()
    label = _LEDGERS[ledger][1]
    if not reason:
        raise Refused("reason_required", f"调整{label}必须填写原因")
    delta = to_money(delta) if ledger == "stored_value" else int(delta)
    if not delta:
        raise Refused("invalid_amount", f"{label}调整数量不能为0")
    with transaction.atomic():
        try:
            entry = _change_balance(
                member=member,
                field=ledger,
                delta=delta,
                reason=f"人工调整：{reason}",
                actor=actor,
                store=store,
                ref_type="manual",
            )
        except InsufficientBalance as exc:
            current = getattr(Member.objects.get(pk=member.pk), ledger)
            raise Refused(
                "insufficient_balance",
                f"{label}不足：当前{current}{LEDGER_UNITS[ledger]}，不能扣减{-delta}"
                f"{LEDGER_UNITS[ledger]}",
                409,
            ) from exc
        record_audit(
            actor=actor,
            action="members.adjust_balance",
            obj=member,
            org=store,
            after={"ledger": ledger, "delta": delta, "balance_after": entry.balance_after},
            note=reason,
        )
    return entry


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


# An upload is read as it streams and copied into a temporary table this many rows at a time
# (progress is reported after each chunk); nothing of the file is kept in memory.
IMPORT_CHUNK_ROWS = 20_000
# The bad rows an import reports (the first, by row); the count covers them all.
IMPORT_ERRORS_KEPT = 5_000
_PHONE = re.compile(r"1\d{10}")
_CARD_NO = re.compile(r"[0-9A-Za-z]{4,30}")
_MEMBERS = Member._meta.db_table

# Every data row of the upload, good or bad (an earlier bad row still makes a later one a
# duplicate): its number in the file, its place among the data rows, the member's fields, and
# what the row shows on its own (_parse_member_row). Dropped at the end of the import's
# transaction, and explicitly when the import runs inside a caller's.
_STAGING = "member_import_rows"
_STAGING_COLUMNS = (
    "row_no integer NOT NULL",
    "seq integer NOT NULL",
    "phone text NOT NULL",
    "card_no text NOT NULL",
    "member_no text NOT NULL",
    "name text NOT NULL",
    "gender text",
    "birthday date",
    "level text NOT NULL",
    "store_id bigint",
    "phone_ok boolean NOT NULL",
    "card_ok boolean NOT NULL",
    "problems text",
)
# The bad rows, first by row: a well-formed phone, card number or member ID that an earlier row
# has (the first such row), and, for the rows good within the file, a value a member already has.
# bad_rows counts them all.
_BAD_ROWS = f"""
    WITH first_phone AS (
        SELECT phone, min(row_no) AS row_no FROM member_import_rows
        GROUP BY phone HAVING count(*) > 1
    ), first_card AS (
        SELECT card_no, min(row_no) AS row_no FROM member_import_rows
        GROUP BY card_no HAVING count(*) > 1
    ), first_member_no AS (
        SELECT member_no, min(row_no) AS row_no FROM member_import_rows WHERE member_no <> ''
        GROUP BY member_no HAVING count(*) > 1
    ), in_file AS (
        SELECT r.row_no, r.phone, r.card_no, r.member_no, r.phone_ok, r.card_ok, r.problems,
            CASE WHEN r.phone_ok AND fp.row_no < r.row_no THEN fp.row_no END AS phone_first,
            CASE WHEN r.card_ok AND fc.row_no < r.row_no THEN fc.row_no END AS card_first,
            CASE WHEN fn.row_no < r.row_no THEN fn.row_no END AS member_no_first
        FROM member_import_rows r
        LEFT JOIN first_phone fp ON fp.phone = r.phone
        LEFT JOIN first_card fc ON fc.card_no = r.card_no
        LEFT JOIN first_member_no fn ON fn.member_no = r.member_no
    ), judged AS (
        SELECT *, phone_ok AND card_ok AND problems IS NULL AND phone_first IS NULL
            AND card_first IS NULL AND member_no_first IS NULL AS good_in_file
        FROM in_file
    )
    SELECT j.row_no, j.phone, j.card_no, j.member_no, j.phone_ok, j.card_ok, j.problems,
        j.phone_first, j.card_first, j.member_no_first,
        mp.id IS NOT NULL AS phone_taken,
        mc.id IS NOT NULL AS card_taken,
        mn.id IS NOT NULL AS member_no_taken,
        count(*) OVER () AS bad_rows
    FROM judged j
    LEFT JOIN {_MEMBERS} mp ON j.good_in_file AND mp.phone = j.phone
    LEFT JOIN {_MEMBERS} mc ON j.good_in_file AND mc.card_no = j.card_no
    LEFT JOIN {_MEMBERS} mn ON j.good_in_file AND j.member_no <> '' AND mn.member_no = j.member_no
    WHERE NOT j.good_in_file OR mp.id IS NOT NULL OR mc.id IS NOT NULL OR mn.id IS NOT NULL
    ORDER BY j.row_no
    LIMIT {IMPORT_ERRORS_KEPT}
"""
# The members, in the file's order (so their ids too); a row without a member ID gets
# I<base + its place>. The last four columns take the model's defaults.
_INSERT_MEMBERS = f"""
    INSERT INTO {_MEMBERS} (member_no, phone, card_no, name, gender, birthday, level,
        registration_store_id, source, registered_at, real_name_verified, u_value, points,
        stored_value)
    SELECT CASE WHEN member_no = '' THEN 'I' || (%(base)s + seq) ELSE member_no END, phone,
        card_no, name, gender, birthday, level, store_id, %(source)s, %(now)s, false, 0, 0, 0
    FROM member_import_rows
    ORDER BY seq
"""


class _BadRow(NamedTuple):
    """A row of _BAD_ROWS."""

    row_no: int
    phone: str
    card_no: str
    member_no: str
    phone_ok: bool
    card_ok: bool
    problems: str | None
    phone_first: int | None
    card_first: int | None
    member_no_first: int | None
    phone_taken: bool
    card_taken: bool
    member_no_taken: bool
    bad_rows: int


@dataclass(frozen=True)
class ImportOutcome:
    """`total` data rows read; `imported` members (0 when a row is bad); `error_count` bad rows,
    the first IMPORT_ERRORS_KEPT of them in `errors` ([{row, error}], by row)."""

    total: int
    imported: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)


def import_member_rows(
    *, actor, rows: Iterable[list[str]], progress: Callable[[int], None] | None = None
) -> ImportOutcome:
    """Import the members of an upload's rows (header first), all or nothing, in one transaction.

    Each row is checked on its own as it is read and copied into a temporary table, chunk by
    chunk (`progress(rows read)` after each); duplicates within the file and values members
    already have are found in SQL; when no row is bad, one INSERT … SELECT creates the members.
    Memory stays flat whatever the size of the upload."""
    rows = iter(rows)
    header = next(rows, None)
    if not header:
        return ImportOutcome(total=1, error_count=1, errors=[{"row": 1, "error": "文件为空"}])
    columns = [IMPORT_HEADERS.get(h.strip()) for h in header]
    missing = [
        name
        for name, key in IMPORT_HEADERS.items()
        if key in ("phone", "card_no") and key not in columns
    ]
    if missing:
        error = f"缺少列：{'、'.join(missing)}"
        return ImportOutcome(total=1, error_count=1, errors=[{"row": 1, "error": error}])
    stores = {o.code: o.pk for o in Org.objects.filter(kind=Org.Kind.STORE)}
    staged = _staged_rows(rows, columns, stores=stores)
    with transaction.atomic():
        total = staging.stage_rows(
            table=_STAGING,
            columns=_STAGING_COLUMNS,
            records=staged,
            chunk_rows=IMPORT_CHUNK_ROWS,
            after_chunk=progress,
        )
        if total == 0:
            staging.drop_staging(_STAGING)
            error = "文件中只有表头，没有会员数据"
            return ImportOutcome(total=0, error_count=1, errors=[{"row": 1, "error": error}])
        with connection.cursor() as cursor:
            cursor.execute(_BAD_ROWS)
            bad = [_BadRow(*r) for r in cursor.fetchall()]
            imported = 0
            if not bad:
                base = (
                    Member.objects.order_by("-id").values_list("id", flat=True).first() or 0
                ) + 10001
                params = {"base": base, "source": Member.Source.IMPORT, "now": timezone.now()}
                cursor.execute(_INSERT_MEMBERS, params)
                imported = cursor.rowcount
                record_audit(actor=actor, action="members.import", after={"count": imported})
        staging.drop_staging(_STAGING)
    return ImportOutcome(
        total=total,
        imported=imported,
        error_count=bad[0].bad_rows if bad else 0,
        errors=[{"row": r.row_no, "error": _row_error(r)} for r in bad],
    )


def _staged_rows(rows, columns: list[str | None], *, stores: dict[str, int]) -> Iterator[tuple]:
    """The staging table's rows of the data rows (numbered from 2, blank rows skipped)."""
    seq = 0
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        data = {
            key: (row[i] if i < len(row) else "").strip() for i, key in enumerate(columns) if key
        }
        yield (number, seq, *_parse_member_row(data, stores=stores))
        seq += 1


# What a member holds (Member's max_length): longer values are refused by row, never cut. A
# refused value is repeated in its message only up to ECHO_MAX characters.
MEMBER_NO_MAX, NAME_MAX, LEVEL_MAX = 20, 50, 20
ECHO_MAX = 20


def _echo(value: str) -> str:
    return value if len(value) <= ECHO_MAX else value[:ECHO_MAX] + "…"


def _parse_member_row(data: dict[str, str], *, stores: dict[str, int]) -> tuple:
    """One row on its own: the member's fields (phone, card number, member ID, name, gender,
    birthday, level, store id), whether the phone and the card number are well formed, and the
    row's other problems (gender, birthday, store; None when there are none). Whether a value
    repeats an earlier row or belongs to a member is found in SQL (_BAD_ROWS)."""
    problems = []
    phone, card_no = data.get("phone", ""), data.get("card_no", "")
    member_no, name, level = data.get("member_no", ""), data.get("name", ""), data.get("level", "")
    if len(member_no) > MEMBER_NO_MAX:
        problems.append(f"会员ID过长（最多{MEMBER_NO_MAX}个字符）")
    if len(name) > NAME_MAX:
        problems.append(f"姓名过长（最多{NAME_MAX}个字）")
    gender = GENDERS.get(data.get("gender", ""))
    if gender is None:
        problems.append(f"性别“{_echo(data['gender'])}”不正确，应为男/女")
    birthday = None
    if data.get("birthday"):
        try:
            birthday = datetime.date.fromisoformat(data["birthday"][:10].replace("/", "-"))
        except ValueError:
            problems.append(f"生日“{_echo(data['birthday'])}”不是有效日期（如1990-05-01）")
    if len(level) > LEVEL_MAX:
        problems.append(f"会员等级过长（最多{LEVEL_MAX}个字）")
    store_id = None
    if data.get("store_code"):
        store_id = stores.get(data["store_code"])
        if store_id is None:
            problems.append(f"注册门店编码“{_echo(data['store_code'])}”不存在")
    return (
        phone,
        card_no,
        member_no[:MEMBER_NO_MAX],
        name[:NAME_MAX],
        gender,
        birthday,
        level[:LEVEL_MAX],
        store_id,
        _PHONE.fullmatch(phone) is not None,
        _CARD_NO.fullmatch(card_no) is not None,
        "；".join(problems) or None,
    )


def _row_error(r: "_BadRow") -> str:
    """A bad row's message, its problems in column order (a value a member already has is only
    reported for a row good within the file)."""
    messages = []
    if not r.phone_ok:
        messages.append(f"手机号“{_echo(r.phone)}”格式不正确，应为11位数字")
    elif r.phone_first is not None:
        messages.append(f"手机号{r.phone}与第{r.phone_first}行重复")
    if not r.card_ok:
        messages.append(f"会员卡号“{_echo(r.card_no)}”格式不正确")
    elif r.card_first is not None:
        messages.append(f"会员卡号{r.card_no}与第{r.card_first}行重复")
    if r.member_no_first is not None:
        messages.append(f"会员ID{r.member_no}与第{r.member_no_first}行重复")
    if r.problems:
        messages.append(r.problems)
    if r.phone_taken:
        messages.append(f"手机号{r.phone}已是会员")
    if r.card_taken:
        messages.append(f"会员卡号{r.card_no}已存在")
    if r.member_no_taken:
        messages.append(f"会员ID{r.member_no}已存在")
    return "；".join(messages)


# --- member tags ------------------------------------------------------------------------------
# Operators define tags and put them on members: one member on the detail page, many from the
# member list's selection or an uploaded list. Each change is one audit entry (for a bulk change
# on the tag, with the number of members it touched).

MAX_TAG_NAME = 30


def _tag_name(name: str, *, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise Refused("empty_tag_name", _("Tag name: enter a name."))
    if len(name) > MAX_TAG_NAME:
        raise Refused(
            "tag_name_too_long",
            _("Tag name: at most %(max)s characters.") % {"max": MAX_TAG_NAME},
        )
    if MemberTag.objects.filter(name=name).exclude(pk=exclude).exists():
        raise Refused(
            "tag_name_taken", _("Tag name: “%(name)s” is already used.") % {"name": name}, 409
        )
    return name


def save_tag(*, actor, name: str, note: str = "", tag: MemberTag | None = None) -> MemberTag:
    """Define a new tag, or rename / re-describe one (its members keep it)."""
    with transaction.atomic():
        if tag is None:
            tag = MemberTag.objects.create(name=_tag_name(name), note=note.strip())
            record_audit(
                actor=actor,
                action="members.tag_create",
                obj=tag,
                after=snapshot(tag, ["name", "note"]),
            )
            return tag
        tag = MemberTag.objects.select_for_update().get(pk=tag.pk)
        before = snapshot(tag, ["name", "note"])
        tag.name, tag.note = _tag_name(name, exclude=tag.pk), note.strip()
        tag.save(update_fields=["name", "note"])
        record_audit(
            actor=actor,
            action="members.tag_update",
            obj=tag,
            before=before,
            after=snapshot(tag, ["name", "note"]),
        )
    return tag


def delete_tag(*, actor, tag: MemberTag) -> int:
    """Remove a tag, and with it from every member that had it; returns how many had it."""
    with transaction.atomic():
        tag = MemberTag.objects.select_for_update().get(pk=tag.pk)
        count = tag.members.count()
        record_audit(
            actor=actor,
            action="members.tag_delete",
            obj=tag,
            before={**snapshot(tag, ["name", "note"]), "members": count},
        )
        tag.delete()
    return count


def set_member_tags(*, actor, member: Member, tags: Iterable[MemberTag]) -> Member:
    """The member's tags become exactly `tags` (the detail page's choice)."""
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        before = sorted(member.tags.values_list("name", flat=True))
        member.tags.set(list(tags))
        after = sorted(member.tags.values_list("name", flat=True))
        if before != after:
            record_audit(
                actor=actor,
                action="members.set_tags",
                obj=member,
                before={"tags": "、".join(before)},
                after={"tags": "、".join(after)},
            )
    return member


@dataclass
class TagChange:
    changed: int  # members that got the tag (or lost it)
    unchanged: int  # members that already had it (or never had it)


def tag_members(
    *, actor, tag: MemberTag, member_ids: Iterable[int], remove: bool = False, source: str = ""
) -> TagChange:
    """Put `tag` on many members at once (or take it off); `source` says where the members came
    from (the member list's selection, an uploaded file's name) for the audit entry."""
    ids = sorted(set(member_ids))
    if not ids:
        raise Refused("no_members", _("No member selected: choose members first."))
    Tagging = Member.tags.through
    with transaction.atomic():
        tag = MemberTag.objects.select_for_update().get(pk=tag.pk)
        if remove:
            changed, _by_model = Tagging.objects.filter(membertag=tag, member_id__in=ids).delete()
        else:
            existing = set(
                Tagging.objects.filter(membertag=tag, member_id__in=ids).values_list(
                    "member_id", flat=True
                )
            )
            new = [Tagging(member_id=pk, membertag=tag) for pk in ids if pk not in existing]
            Tagging.objects.bulk_create(new, batch_size=5000, ignore_conflicts=True)
            changed = len(new)
        record_audit(
            actor=actor,
            action="members.untag_members" if remove else "members.tag_members",
            obj=tag,
            after={"members": changed},
            note=source[:200],
        )
    return TagChange(changed=changed, unchanged=len(ids) - changed)
