"""Reads of the pickup app: list querysets, the four code selectors, export rows."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, QuerySet, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from psycopg.pq import TransactionStatus

from couponhub.core.crypto import decrypt
from couponhub.core.models import AuditEntry
from pickup.models import (
    CardType,
    CodeBatch,
    PickupCode,
    PickupOrder,
    RedPacketClaim,
    RedPacketEntry,
)

SELECTION_KEYS = ("serial_from", "serial_to", "batch", "card_type", "date_from", "date_to")


def pickup_audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(action__startswith="pickup.")


def codes_for_list() -> QuerySet[PickupCode]:
    return PickupCode.objects.select_related("card_type", "batch")


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def select_codes(selection: dict, queryset: QuerySet | None = None) -> QuerySet[PickupCode]:
    """The codes chosen by serial range, batch, card type and generation date.

    `selection` is JSON-friendly (it is stored on export records and in the audit log)."""
    qs = PickupCode.objects.all() if queryset is None else queryset
    if (v := _int(selection.get("serial_from"))) is not None:
        qs = qs.filter(serial__gte=v)
    if (v := _int(selection.get("serial_to"))) is not None:
        qs = qs.filter(serial__lte=v)
    if (v := _int(selection.get("batch"))) is not None:
        qs = qs.filter(batch_id=v)
        # A batch owns a serial range: bounding it lets the database walk the primary key.
        bounds = CodeBatch.objects.filter(pk=v).values_list("serial_start", "quantity").first()
        if bounds:
            qs = qs.filter(serial__gte=bounds[0], serial__lt=bounds[0] + bounds[1])
    if (v := _int(selection.get("card_type"))) is not None:
        qs = qs.filter(card_type_id=v)
    # Generation date is the batch's: all of a batch's codes share it.
    if (d := _date(selection.get("date_from"))) is not None:
        qs = qs.filter(batch__in=CodeBatch.objects.filter(created_at__date__gte=d))
    if (d := _date(selection.get("date_to"))) is not None:
        qs = qs.filter(batch__in=CodeBatch.objects.filter(created_at__date__lte=d))
    if (v := selection.get("status")) in PickupCode.Status.values:
        qs = qs.filter(status=v)
    return qs


def clean_selection(data: dict) -> dict:
    """A selection with only known keys, as strings (JSON-friendly)."""
    out = {}
    for key in (*SELECTION_KEYS, "status"):
        value = data.get(key)
        if value in (None, ""):
            continue
        if hasattr(value, "pk"):
            value = value.pk
        out[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
    return out


def describe_selection(selection: dict) -> str:
    parts = []
    if selection.get("serial_from") or selection.get("serial_to"):
        parts.append(f"流水号{selection.get('serial_from', '')}～{selection.get('serial_to', '')}")
    if selection.get("batch"):
        parts.append(f"批次{selection['batch']}")
    if selection.get("card_type"):
        card = CardType.objects.filter(pk=_int(selection["card_type"])).first()
        parts.append(f"卡券{card.name if card else selection['card_type']}")
    if selection.get("date_from") or selection.get("date_to"):
        parts.append(f"生成日期{selection.get('date_from', '')}～{selection.get('date_to', '')}")
    if selection.get("status"):
        parts.append(str(PickupCode.Status(selection["status"]).label))
    return "，".join(parts) or "全部提货码"


def pickup_path(code: str) -> str:
    return reverse("pickup:consumer_code", args=[code])


def mask_password(password: str) -> str:
    if len(password) <= 2:
        return "*" * len(password)
    return f"{password[0]}{'*' * (len(password) - 2)}{password[-1]}"


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _as_is(value):
    return value


def _status(value: str) -> str:
    return "已使用" if value == "used" else "未使用"


def _flag(text: str) -> bool:
    return text == "t"  # how PostgreSQL writes true


@dataclass(frozen=True)
class ExportColumn:
    """One column a code export can have: its header, the field export_rows reads, and how a
    value becomes a cell. The fast CSV path reads the table column `raw` as text instead, and
    `parse` turns that text back into the value."""

    header: str
    field: str
    raw: str
    convert: Callable = _as_is
    parse: Callable[[str], Any] = str


EXPORT_COLUMNS: dict[str, ExportColumn] = {
    "serial": ExportColumn("流水号", "serial", "serial", parse=int),
    "code": ExportColumn("提货码", "code", "code"),
    "password": ExportColumn("密码", "password", "password"),
    "url": ExportColumn("提货网址", "code", "code"),  # written around the code
    "card_type": ExportColumn("卡券", "card_type__name", "card_type_id", parse=int),
    "batch": ExportColumn("批次", "batch_id", "batch_id", parse=int),
    "enabled": ExportColumn("启用", "enabled", "enabled", _yes, _flag),
    "status": ExportColumn("状态", "status", "status", _status),
    "shipped": ExportColumn("已发货", "shipped", "shipped", _yes, _flag),
    "picked_up": ExportColumn("已提货", "picked_up", "picked_up", _yes, _flag),
    "red_packet": ExportColumn("红包金额", "red_packet_amount", "red_packet_amount", parse=Decimal),
}
DEFAULT_EXPORT_COLUMNS = ["serial", "code", "password", "url", "card_type", "batch"]


def _url_prefix(base_url: str) -> str:
    return base_url.rstrip("/") + pickup_path("CODE").replace("CODE/", "")


def export_rows(
    selection: dict,
    columns: list[str],
    *,
    base_url: str = "",
    chunk_size: int = 5_000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list]:
    """The selected codes as rows of the chosen columns, ordered by serial, read in chunks so
    memory stays flat whatever the size."""
    fields = [EXPORT_COLUMNS[c].field for c in columns]
    url_prefix = _url_prefix(base_url)
    converters = []
    for c in columns:
        if c == "url":
            converters.append(lambda v, p=url_prefix: f"{p}{v}/")
        else:
            converters.append(EXPORT_COLUMNS[c].convert)
    qs = select_codes(selection).order_by("serial")
    pw = fields.index("password") if "password" in fields else None
    if pw is not None:
        # Read the stored tokens as they are and decrypt each chunk at once.
        qs = qs.annotate(password_token=Cast("password", output_field=TextField()))
        fields = [f if f != "password" else "password_token" for f in fields]
    qs = qs.values_list(*fields)
    done = 0
    # One query, read in chunks through a server-side cursor (PostgreSQL): the database plans
    # and sorts the selection once. Outside a transaction Django declares it WITH HOLD, so no
    # transaction stays open while the rows are written and the job's progress (written between
    # chunks) is seen live.
    rows = qs.iterator(chunk_size=chunk_size)
    while chunk := list(islice(rows, chunk_size)):
        if pw is not None:
            passwords = [decrypt(r[pw]) for r in chunk]
            chunk = [(*r[:pw], p, *r[pw + 1 :]) for r, p in zip(chunk, passwords, strict=True)]
        for record in chunk:
            yield [conv(v) for conv, v in zip(converters, record, strict=True)]
        done += len(chunk)
        if progress is not None:
            progress(done)


def write_code_export(
    path: Path,
    *,
    selection: dict,
    columns: list[str],
    file_format: str,
    base_url: str = "",
    progress: Callable[[int], None] | None = None,
    max_rows_per_sheet: int | None = None,
) -> int:
    from couponhub.core.spreadsheets import MAX_ROWS, write_csv, write_xlsx

    headers = [EXPORT_COLUMNS[c].header for c in columns]
    if file_format == "csv" and connection.vendor == "postgresql":
        return _write_csv_on_postgresql(
            path, selection=selection, columns=columns, base_url=base_url, progress=progress
        )
    rows = export_rows(selection, columns, base_url=base_url, progress=progress)
    if file_format == "csv":
        return write_csv(path, headers=headers, rows=rows)
    return write_xlsx(
        path,
        headers=headers,
        rows=rows,
        sheet_name="提货码",
        max_rows_per_sheet=max_rows_per_sheet or MAX_ROWS,
    )


def _write_csv_on_postgresql(
    path: Path,
    *,
    selection: dict,
    columns: list[str],
    base_url: str = "",
    progress: Callable[[int], None] | None = None,
    chunk_size: int = 20_000,
) -> int:
    """The CSV export, the same bytes as write_csv over export_rows, made without a Python
    step per code and cell.

    The database sends each chunk of codes as one text: the raw values, comma-separated (none
    of them can hold a comma). The text is split once; each column's cells are made for the
    whole chunk at once (passwords decrypted together, a repeated value made into a cell once)
    and woven into lines by slice assignment. A second thread fetches the next chunk while
    this one is written, so the database and Python work side by side."""
    from couponhub.core.spreadsheets import write_csv

    fields = list(dict.fromkeys(EXPORT_COLUMNS[c].raw for c in columns))
    codes = select_codes(selection).order_by("serial").values_list("serial", *fields)

    def compiled(after: int) -> tuple[str, list]:
        inner, params = codes.filter(serial__gt=after)[:chunk_size].query.sql_with_params()
        return inner, list(params)

    headers = [EXPORT_COLUMNS[c].header for c in columns]
    # One statement for every chunk, the serial to go on from being its one changing parameter
    # (found where two compilations differ).
    try:
        inner, args = compiled(0)
    except EmptyResultSet:  # a selection nothing can match, e.g. a serial beyond any
        return write_csv(path, headers=headers, rows=())
    after_at = next(i for i, (a, b) in enumerate(zip(args, compiled(1)[1], strict=True)) if a != b)
    values = ", ".join(f"s.{f}" for f in fields)
    sql = (
        f"SELECT count(*), max(s.serial), convert_to(string_agg(concat_ws(',', {values}), ',' "
        f"ORDER BY s.serial), 'UTF8') FROM ({inner}) s"
    )

    def fetch(after: int) -> tuple[int, int, bytes]:
        args[after_at] = after
        # Django's cursors bind on the client, in text: a server-side one brings the bytes as
        # they are, and runs the one prepared statement every time.
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, args, binary=True, prepare=True)
            return cursor.fetchone()

    cells = _ChunkCells(columns, base_url)
    connection.ensure_connection()
    raw = connection.connection
    written = 0
    # One plan for all the chunks: planning each one anew costs more than running it when the
    # key range ends among deleted rows (PostgreSQL probes the index for the range's ends).
    raw.execute("SET plan_cache_mode = force_generic_plan")
    try:
        with open(path, "wb") as out, ThreadPoolExecutor(1, "pickup-export") as fetcher:
            write_csv(out, headers=headers, rows=())
            upcoming = fetcher.submit(fetch, -1)
            while True:
                count, last, text = upcoming.result()
                if not count:
                    break
                upcoming = fetcher.submit(fetch, last)
                raw_values = text.split(b",")
                by_field = {f: raw_values[i :: len(fields)] for i, f in enumerate(fields)}
                width = 2 * len(columns)
                line = [b","] * (width * count)
                for i, column in enumerate(columns):
                    made = cells.make(column, by_field[EXPORT_COLUMNS[column].raw])
                    if width == 2:  # csv quotes an empty cell that is a whole line
                        made = [cell or b'""' for cell in made]
                    line[2 * i :: width] = made
                line[width - 1 :: width] = [b"\r\n"] * count
                out.write(b"".join(line))
                written += count
                if progress is not None:
                    progress(written)
    finally:
        # (a transaction that failed meanwhile takes the setting back with it when rolled back;
        # a broken connection takes it away with it)
        if raw.info.transaction_status in (TransactionStatus.IDLE, TransactionStatus.INTRANS):
            raw.execute("RESET plan_cache_mode")
    return written


_LETTERS_AND_DIGITS = string.ascii_letters.encode() + string.digits.encode()


class _ChunkCells:
    """Turns one column's raw values for a chunk of codes into its CSV cells, as csv_cell
    would make each one."""

    def __init__(self, columns: list[str], base_url: str) -> None:
        from couponhub.core.spreadsheets import csv_cell

        self.csv_cell = csv_cell
        # codes are letters and digits only: the cell is whatever the prefix makes it, around it
        lead, trail = csv_cell(f"{_url_prefix(base_url)}\x00/").encode().split(b"\x00")
        self.url_lead, self.url_trail = lead, trail
        self.made: dict[str, dict[bytes, bytes]] = {c: {} for c in columns}
        self.card_type_names: dict[int, str] = {}

    def make(self, column: str, texts: list[bytes]) -> list[bytes]:
        if column in ("serial", "code"):  # digits; letters and digits: nothing to quote
            return texts
        if column == "url":
            return [self.url_lead + code + self.url_trail for code in texts]
        if column == "password":
            passwords = [decrypt(t.decode()).encode() for t in texts]
            # Generated passwords are letters and digits; only an imported one may need quoting.
            if b"".join(passwords).translate(None, _LETTERS_AND_DIGITS):
                passwords = [self.csv_cell(p.decode()).encode() for p in passwords]
            return passwords
        # the other columns repeat a few values: each is made into a cell once
        made = self.made[column]
        return [made[t] if t in made else self._remember(column, t) for t in texts]

    def _remember(self, column: str, text: bytes) -> bytes:
        spec = EXPORT_COLUMNS[column]
        value = spec.parse(text.decode())
        if column == "card_type":
            if value not in self.card_type_names:
                self.card_type_names.update(CardType.objects.values_list("pk", "name"))
            value = self.card_type_names[value]
        cell = self.made[column][text] = self.csv_cell(spec.convert(value)).encode()
        return cell


def export_filename(prefix: str, file_format: str) -> str:
    return f"{prefix}-{timezone.localtime():%Y%m%d-%H%M%S}.{file_format}"


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------

ONLINE_TABS = ("pending", "shipped", "completed", "cancelled")


def orders_for_list(kind: str | None = None, *, deleted: bool = False) -> QuerySet[PickupOrder]:
    qs = PickupOrder.objects.select_related(
        "code", "card_type", "courier", "store__store"
    ).prefetch_related("items")
    qs = qs.exclude(deleted_at=None) if deleted else qs.filter(deleted_at=None)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def filtered_orders(kind: str, query: dict, queryset: QuerySet | None = None) -> QuerySet:
    """The orders an order list shows for these GET parameters (tab + filters)."""
    from pickup.filters import OnlineOrderFilter, StoreOrderFilter

    qs = orders_for_list(kind) if queryset is None else queryset
    if kind == PickupOrder.Kind.ONLINE:
        tab = query.get("tab") or "pending"
        if tab in ONLINE_TABS:
            qs = qs.filter(status=tab)
        return OnlineOrderFilter(query, queryset=qs).qs
    return StoreOrderFilter(query, queryset=qs).qs


def online_tab_counts() -> dict[str, int]:
    rows = (
        PickupOrder.objects.filter(kind=PickupOrder.Kind.ONLINE, deleted_at=None)
        .values("status")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(ONLINE_TABS, 0)
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def order_products(order: PickupOrder) -> str:
    return "、".join(f"{i.product_name}×{i.quantity}" for i in order.items.all())


ORDER_EXPORT_HEADERS = [
    "订单号",
    "状态",
    "提货方式",
    "提货码",
    "卡券",
    "商品",
    "姓名",
    "手机号",
    "省份",
    "城市",
    "区县",
    "详细地址",
    "提货门店",
    "提货日期",
    "快递公司",
    "快递单号",
    "下单时间",
    "发货时间",
    "完成时间",
]


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def order_export_rows(orders: QuerySet[PickupOrder]) -> Iterator[list]:
    for o in orders.order_by("pk").iterator(chunk_size=2000):
        yield [
            o.order_no,
            o.status_label,
            o.get_kind_display(),
            o.code.code,
            o.card_type.name,
            order_products(o),
            o.consumer_name,
            o.consumer_phone,
            o.province,
            o.city,
            o.district,
            o.address,
            o.store.store.name if o.store_id else "",
            o.pickup_date.isoformat() if o.pickup_date else "",
            o.courier.name if o.courier_id else "",
            o.tracking_no,
            _local(o.created_at),
            _local(o.shipped_at),
            _local(o.completed_at),
        ]


def consumer_order(order_no: str, phone: str) -> PickupOrder | None:
    """The consumer's lookup: both must match (a deleted order is still the consumer's)."""
    return (
        orders_for_list(deleted=False)
        .filter(order_no=(order_no or "").strip().upper(), consumer_phone=(phone or "").strip())
        .first()
    )


# ---------------------------------------------------------------------------
# Red packets
# ---------------------------------------------------------------------------


def red_packet_codes() -> QuerySet[PickupCode]:
    return (
        PickupCode.objects.filter(red_packet_amount__gt=0)
        .select_related("card_type", "red_packet_claim")
        .order_by("serial")
    )


def red_packet_claims() -> QuerySet[RedPacketClaim]:
    return RedPacketClaim.objects.select_related("code", "card_type", "order", "payout")


def red_packet_ledger() -> QuerySet[RedPacketEntry]:
    return RedPacketEntry.objects.select_related("actor")
