"""Import and export of pickup codes: each starts a background job and keeps a record."""

from __future__ import annotations

import io
import re

from django.core.files.base import ContentFile
from django.db import transaction

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.spreadsheets import SpreadsheetError, read_rows, write_csv
from pickup.models import CardType, CodeBatch, ExportRecord, ImportRecord, PickupCode
from pickup.selectors import EXPORT_COLUMNS, describe_selection, select_codes
from pickup.services.batches import code_records, reserve_serials, store_codes

CHUNK_SIZE = 5_000
CODE_RE = re.compile(r"^[A-Z0-9]{4,40}$")


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def start_code_import(*, actor, card_type: CardType, upload) -> ImportRecord:
    """Keep the uploaded file and queue its import."""
    with transaction.atomic():
        record = ImportRecord(
            card_type=card_type,
            original_name=upload.name[:200],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record.original_file.save(upload.name, upload, save=False)
        record.save()
        record.job = enqueue_job(
            kind="pickup.import_codes",
            title=f"导入提货码：{record.original_name}",
            owner=record.created_by,
            params={"import_id": record.pk},
        )
        record.save(update_fields=["job"])
        record_audit(
            actor=actor, action="pickup.importrecord.create", obj=record, after=snapshot(record)
        )
    return record


HEADER_WORDS = {"提货码", "卡号", "code", "券码", "兑换码"}


def _parse_import(rows) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]], int]:
    """(valid rows, errors, total data rows); errors are (row number, code, reason)."""
    valid: list[tuple[int, str, str]] = []
    errors: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    total = 0
    for number, row in enumerate(rows, start=1):
        if number == 1 and row:
            first = row[0].strip().lower()
            if first in HEADER_WORDS:
                if len(row) < 2:
                    raise Refused("pickup_refused", "列不正确：第一列应为提货码，第二列应为密码")
                continue
            if not (first.isascii() and first.isalnum()):
                raise Refused(
                    "pickup_refused", "列不正确：第一列应为提货码，第二列应为密码（第1行无法识别）"
                )
        if not row:
            continue
        total += 1
        code = row[0].strip().upper()
        password = row[1].strip() if len(row) > 1 else ""
        if len(row) > 2 and any(cell for cell in row[2:]):
            errors.append((number, code, "列数不正确：只应有提货码和密码两列"))
        elif not CODE_RE.match(code):
            errors.append((number, code, "提货码格式不正确：应为4～40位字母或数字"))
        elif not password:
            errors.append((number, code, "密码为空"))
        elif len(password) > 40 or not password.isprintable():
            errors.append((number, code, "密码格式不正确：最多40位可见字符"))
        elif code in seen:
            errors.append((number, code, f"文件内重复：与第{seen[code]}行相同"))
        else:
            seen[code] = number
            valid.append((number, code, password))
    return valid, errors, total


def run_code_import(record: ImportRecord) -> ImportRecord:
    """Import the valid rows of the file in one transaction; report every bad row."""
    if record.status == ImportRecord.Status.DONE:
        return record
    try:
        with record.original_file.open("rb") as fh:
            valid, errors, total = _parse_import(read_rows(fh, filename=record.original_name))
        if total == 0:
            raise Refused("pickup_refused", "文件中没有提货码")
    except (SpreadsheetError, Refused) as exc:
        record.status = ImportRecord.Status.FAILED
        record.error = str(exc)[:500]
        record.save(update_fields=["status", "error"])
        return record
    try:
        return _store_import(record, valid, errors, total)
    except Refused as exc:
        record.status = ImportRecord.Status.FAILED
        record.error = str(exc)[:500]
        record.save(update_fields=["status", "error"])
        return record


def _store_import(record, valid, errors, total) -> ImportRecord:
    duplicates = 0
    with transaction.atomic():
        batch = None
        if valid:
            start = reserve_serials(len(valid))
            batch = CodeBatch.objects.create(
                card_type=record.card_type,
                source=CodeBatch.Source.IMPORTED,
                quantity=len(valid),
                serial_start=start,
                created_by=record.created_by,
                note=f"导入：{record.original_name}"[:200],
            )
        stored = 0
        next_serial = batch.serial_start if batch else 0
        for i in range(0, len(valid), CHUNK_SIZE):
            chunk = valid[i : i + CHUNK_SIZE]
            taken = set(
                PickupCode.objects.filter(code__in=[c for _n, c, _p in chunk]).values_list(
                    "code", flat=True
                )
            )
            codes, passwords = [], []
            for number, code, password in chunk:
                if code in taken:
                    errors.append((number, code, "与系统中已有的提货码重复"))
                    duplicates += 1
                    continue
                codes.append(code)
                passwords.append(password)
            serials = range(next_serial, next_serial + len(codes))
            next_serial = serials.stop
            store_codes(code_records(serials, codes, passwords, record.card_type_id, batch.pk))
            stored = PickupCode.objects.filter(batch=batch).count()
            if stored != next_serial - batch.serial_start:
                # Another import stored one of these codes meanwhile: take nothing.
                raise Refused("pickup_refused", "导入期间有相同的提货码被同时写入，请重新导入")
        if batch is not None:
            if stored == 0:
                batch.delete()
                batch = None
            elif stored != batch.quantity:
                batch.quantity = stored
                batch.save(update_fields=["quantity"])
        record.batch = batch
        record.total_rows = total
        record.imported = stored
        record.duplicates = duplicates + sum(1 for e in errors if e[2].startswith("文件内重复"))
        record.invalid = len(errors) - record.duplicates
        record.status = ImportRecord.Status.DONE
        if errors:
            _attach_error_file(record, errors)
        record.save()
        record_audit(
            actor=record.created_by,
            action="pickup.importrecord.import",
            obj=record,
            after={
                "imported": record.imported,
                "duplicates": record.duplicates,
                "invalid": record.invalid,
                "batch": batch.pk if batch else None,
            },
        )
    return record


def _attach_error_file(record: ImportRecord, errors: list[tuple[int, str, str]]) -> None:
    buffer = io.BytesIO()
    write_csv(
        buffer,
        headers=["行号", "提货码", "原因"],
        rows=sorted(errors, key=lambda e: e[0]),
    )
    record.error_file.save(
        f"import-{record.pk}-errors.csv", ContentFile(buffer.getvalue()), save=False
    )


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def start_code_export(
    *, actor, selection: dict, columns: list[str], file_format: str, base_url: str = ""
) -> ExportRecord:
    columns = [c for c in columns if c in EXPORT_COLUMNS]
    if not columns:
        raise Refused("pickup_refused", "导出内容：至少选择一列")
    if file_format not in ExportRecord.Format.values:
        raise Refused("pickup_refused", "导出格式：只能是xlsx或csv")
    total = select_codes(selection).count()
    if total == 0:
        raise Refused("pickup_refused", "筛选条件：没有符合条件的提货码")
    with transaction.atomic():
        record = ExportRecord.objects.create(
            selection=selection,
            columns=columns,
            file_format=file_format,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record.job = enqueue_job(
            kind="pickup.export_codes",
            title=f"导出提货码：{describe_selection(selection)}"[:200],
            owner=record.created_by,
            params={"export_id": record.pk, "base_url": base_url},
            total=total,
        )
        record.save(update_fields=["job"])
        record_audit(
            actor=actor,
            action="pickup.exportrecord.create",
            obj=record,
            after={
                "selection": selection,
                "columns": columns,
                "format": file_format,
                "rows": total,
            },
        )
    return record
