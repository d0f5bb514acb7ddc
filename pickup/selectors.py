"""Reads of the pickup app: list querysets, the four code selectors, export rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db.models import CharField, Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from couponhub.core.models import AuditEntry, Job
from couponhub.core.spreadsheets import MAX_ROWS, write_csv, write_xlsx
from pickup.filters import OnlineOrderFilter, StoreOrderFilter
from pickup.models import (
    CardType,
    CardTypeItem,
    Category,
    CodeBatch,
    ExportRecord,
    ImportRecord,
    PickupCode,
    PickupOrder,
    PickupStore,
    Product,
    RedPacketClaim,
    RedPacketEntry,
    SpecAttribute,
    TopUpOrder,
)

SELECTION_KEYS = ("serial_from", "serial_to", "batch", "card_type", "date_from", "date_to")


def pickup_audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(action__startswith="pickup.")


# ---------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------


def pickup_stores_for_list() -> QuerySet[PickupStore]:
    return PickupStore.objects.select_related("store")


def categories_for_list() -> QuerySet[Category]:
    return Category.objects.annotate(product_count=Count("products"))


def spec_attributes_for_list() -> QuerySet[SpecAttribute]:
    return SpecAttribute.objects.prefetch_related("values")


def products_for_list() -> QuerySet[Product]:
    return Product.objects.select_related("category", "brand").prefetch_related(
        "spec_values__attribute"
    )


def card_types_for_list() -> QuerySet[CardType]:
    return CardType.objects.prefetch_related(
        Prefetch("items", queryset=CardTypeItem.objects.select_related("product"))
    )


# ---------------------------------------------------------------------------
# Pickup codes
# ---------------------------------------------------------------------------


def codes_for_list() -> QuerySet[PickupCode]:
    return PickupCode.objects.select_related("card_type", "batch")


def filtered_codes(filterset) -> QuerySet[PickupCode]:
    """The code list's rows for a bound PickupCodeFilter: serial range, batch, card type and
    generation date chosen as the export and the batch actions choose them (select_codes, which
    bounds them by serial range), the other filters as declared."""
    if not filterset.is_valid():
        return filterset.qs  # the filter's own answer to bad input
    cleaned = filterset.form.cleaned_data
    selection = {key: _plain(cleaned.get(key)) for key in SELECTION_KEYS}
    queryset = select_codes(selection, filterset.queryset)
    for name in ("status", "enabled", "code"):
        queryset = filterset.filters[name].filter(queryset, cleaned.get(name))
    return queryset


def _plain(value):
    """A cleaned filter value as select_codes reads it (a pk, an ISO date, a number)."""
    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return int(value)


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
    # Generation date is the batch's: all of a batch's codes share it. The batches are few: their
    # ids and the serial range they span bound the codes, so the database walks an index range.
    batches = CodeBatch.objects.all()
    if (d := _date(selection.get("date_from"))) is not None:
        batches = batches.filter(created_at__date__gte=d)
    if (d := _date(selection.get("date_to"))) is not None:
        batches = batches.filter(created_at__date__lte=d)
    if batches.query.where:
        spans = list(batches.values_list("pk", "serial_start", "quantity"))
        qs = qs.filter(batch_id__in=[pk for pk, _s, _q in spans])
        if spans:
            qs = qs.filter(
                serial__gte=min(start for _pk, start, _q in spans),
                serial__lt=max(start + quantity for _pk, start, quantity in spans),
            )
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


def describe_selection(selection: dict, *, card_type_label: str | None = None) -> str:
    """The selection in words. The selected card type is named by `card_type_label` when the
    caller read it already (a list of records, see export_records), else looked up here."""
    parts = []
    if selection.get("serial_from") or selection.get("serial_to"):
        parts.append(f"流水号{selection.get('serial_from', '')}～{selection.get('serial_to', '')}")
    if selection.get("batch"):
        parts.append(f"批次{selection['batch']}")
    if selection.get("card_type"):
        if card_type_label is None:
            card = CardType.objects.filter(pk=_int(selection["card_type"])).first()
            card_type_label = card.name if card else selection["card_type"]
        parts.append(f"卡券{card_type_label}")
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


def _status(value: str) -> str:
    return "已使用" if value == "used" else "未使用"


@dataclass(frozen=True)
class ExportColumn:
    """One column a code export can have: its header, the field export_rows reads, and how a
    value becomes a cell (None: as it is read)."""

    header: str
    field: str
    convert: Callable | None = None


EXPORT_COLUMNS: dict[str, ExportColumn] = {
    "serial": ExportColumn("流水号", "serial"),
    "code": ExportColumn("提货码", "code"),
    "password": ExportColumn("密码", "password"),
    "url": ExportColumn("提货网址", "code"),  # written around the code
    "card_type": ExportColumn("卡券", "card_type__name"),
    "batch": ExportColumn("批次", "batch_id"),
    "enabled": ExportColumn("启用", "enabled", _yes),
    "status": ExportColumn("状态", "status", _status),
    "shipped": ExportColumn("已发货", "shipped", _yes),
    "picked_up": ExportColumn("已提货", "picked_up", _yes),
    "red_packet": ExportColumn("红包金额", "red_packet_amount"),
}
DEFAULT_EXPORT_COLUMNS = ["serial", "code", "password", "url", "card_type", "batch"]
EXPORT_CHUNK_SIZE = 20_000


def export_rows(
    selection: dict,
    columns: list[str],
    *,
    base_url: str = "",
    chunk_size: int = EXPORT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list]:
    """The selected codes as rows of the chosen columns, ordered by serial.

    One query, read `chunk_size` rows at a time through a server-side cursor, so memory stays
    flat whatever the size. Outside a transaction Django declares the cursor WITH HOLD: no
    transaction stays open while the rows are written, and the job's progress (reported after
    each chunk) is committed and seen live. Each password is opened with crypto.decrypt by its
    field as it is read."""
    url_prefix = base_url.rstrip("/") + pickup_path("CODE").replace("CODE/", "")
    converters = {}  # position: how its value becomes a cell (the other values are as read)
    for i, c in enumerate(columns):
        if c == "url":
            converters[i] = lambda v, p=url_prefix: f"{p}{v}/"
        elif EXPORT_COLUMNS[c].convert is not None:
            converters[i] = EXPORT_COLUMNS[c].convert
    fields = [EXPORT_COLUMNS[c].field for c in columns]
    records = select_codes(selection).order_by("serial").values_list(*fields)
    done = 0
    for record in records.iterator(chunk_size=chunk_size):
        row = list(record)
        for i, convert in converters.items():
            row[i] = convert(row[i])
        yield row
        done += 1
        if progress is not None and done % chunk_size == 0:
            progress(done)
    if progress is not None and done % chunk_size:
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
    chunk_size: int = EXPORT_CHUNK_SIZE,
) -> int:
    """Write the selected codes to a .csv or .xlsx file; return the number of rows."""
    headers = [EXPORT_COLUMNS[c].header for c in columns]
    rows = export_rows(
        selection, columns, base_url=base_url, chunk_size=chunk_size, progress=progress
    )
    if file_format == "csv":
        return write_csv(path, headers=headers, rows=rows)
    return write_xlsx(
        path,
        headers=headers,
        rows=rows,
        sheet_name="提货码",
        max_rows_per_sheet=max_rows_per_sheet or MAX_ROWS,
    )


def export_filename(prefix: str, file_format: str) -> str:
    return f"{prefix}-{timezone.localtime():%Y%m%d-%H%M%S}.{file_format}"


def import_records() -> QuerySet[ImportRecord]:
    return ImportRecord.objects.select_related("card_type", "batch", "created_by")


def export_records() -> QuerySet[ExportRecord]:
    """Export records with their job and creator, and `card_type_label`: the name of the card
    type the selection names (its number if it is gone since), read in the same query so that
    describing each selection takes none."""
    selected = KeyTextTransform("card_type", "selection")
    name = CardType.objects.annotate(key=Cast("pk", CharField())).filter(
        key=KeyTextTransform("card_type", OuterRef("selection"))
    )
    return ExportRecord.objects.select_related("job", "created_by").annotate(
        card_type_label=Coalesce(
            Subquery(name.order_by().values("name")[:1]), selected, output_field=CharField()
        )
    )


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
    """The consumer's lookup: both must match. An order in the recycle bin is not found, as
    the consumer's order page and red-packet claim do not show or take it either."""
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


def red_packet_jobs(user, limit: int = 10) -> list[Job]:
    """The user's latest red-packet generations, for their progress bars."""
    return list(
        Job.objects.filter(owner=user, kind="pickup.generate_red_packets").order_by(
            "-created_at", "-id"
        )[:limit]
    )


def top_up_orders(purpose: str | None = None) -> QuerySet[TopUpOrder]:
    qs = TopUpOrder.objects.select_related("actor")
    return qs.filter(purpose=purpose) if purpose else qs
