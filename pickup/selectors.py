"""Reads of the pickup app: list querysets, the four code selectors, export rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from couponhub.core.crypto import decrypt_many
from couponhub.core.models import AuditEntry
from pickup.models import CardType, CodeBatch, PickupCode

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


# column key → (header, values_list field, convert)
EXPORT_COLUMNS: dict[str, tuple[str, str, Callable]] = {
    "serial": ("流水号", "serial", lambda v: v),
    "code": ("提货码", "code", lambda v: v),
    "password": ("密码", "password", lambda v: v),
    "url": ("提货网址", "code", None),  # filled in with the base URL
    "card_type": ("卡券", "card_type__name", lambda v: v),
    "batch": ("批次", "batch_id", lambda v: v),
    "enabled": ("启用", "enabled", _yes),
    "status": ("状态", "status", lambda v: "已使用" if v == "used" else "未使用"),
    "shipped": ("已发货", "shipped", _yes),
    "picked_up": ("已提货", "picked_up", _yes),
    "red_packet": ("红包金额", "red_packet_amount", lambda v: v),
}
DEFAULT_EXPORT_COLUMNS = ["serial", "code", "password", "url", "card_type", "batch"]


def export_rows(
    selection: dict,
    columns: list[str],
    *,
    base_url: str = "",
    chunk_size: int = 5_000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list]:
    """The selected codes as rows of the chosen columns, ordered by serial, read in chunks by
    keyset pagination so memory stays flat whatever the size."""
    fields = [EXPORT_COLUMNS[c][1] for c in columns]
    url_prefix = base_url.rstrip("/") + pickup_path("CODE").replace("CODE/", "")
    converters = []
    for c in columns:
        convert = EXPORT_COLUMNS[c][2]
        if c == "url":
            converters.append(lambda v, p=url_prefix: f"{p}{v}/")
        else:
            converters.append(convert)
    qs = select_codes(selection).order_by("serial")
    pw = fields.index("password") if "password" in fields else None
    if pw is not None:
        # Read the stored tokens as they are and decrypt each chunk at once.
        qs = qs.annotate(password_token=Cast("password", output_field=TextField()))
        fields = [f if f != "password" else "password_token" for f in fields]
    qs = qs.values_list(*fields)
    done = 0
    # One query read through a server-side cursor (PostgreSQL) in chunks: memory stays flat and
    # the database plans the whole selection once. The transaction keeps the cursor cheap.
    with transaction.atomic():
        for chunk in _chunks(qs.iterator(chunk_size=chunk_size), chunk_size):
            if pw is not None:
                passwords = decrypt_many([r[pw] for r in chunk])
                chunk = [(*r[:pw], p, *r[pw + 1 :]) for r, p in zip(chunk, passwords, strict=True)]
            for record in chunk:
                yield [conv(v) for conv, v in zip(converters, record, strict=True)]
            done += len(chunk)
            if progress is not None:
                progress(done)


def _chunks(iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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

    headers = [EXPORT_COLUMNS[c][0] for c in columns]
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


def export_filename(prefix: str, file_format: str) -> str:
    return f"{prefix}-{timezone.localtime():%Y%m%d-%H%M%S}.{file_format}"
