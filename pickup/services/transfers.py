"""Import and export of pickup codes: each starts a background job and keeps a record."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator

from django.core.files import File
from django.db import connection, transaction

from couponhub.core import staging
from couponhub.core.audit import record_audit, snapshot
from couponhub.core.crypto import encrypt
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.spreadsheets import SpreadsheetError, read_rows, write_csv
from pickup.models import CardType, CodeBatch, ExportRecord, ImportRecord, PickupCode
from pickup.selectors import EXPORT_COLUMNS, describe_selection, select_codes
from pickup.services.batches import ANALYZE_AFTER, reserve_serials

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
# Read as it streams (couponhub.core.staging): each row is checked on its own in Python and
# staged, good or bad, with its password sealed when the row is good on its own; duplicates in
# the file and codes already stored are found in SQL; the good rows go in with one INSERT … SELECT
# and the error file is written from a server-side cursor. Nothing of the file is kept in memory.
IMPORT_CHUNK_ROWS = 20_000
_STAGING = "pickup_import_rows"
_STAGING_COLUMNS = (
    "row_no integer NOT NULL",
    "code text NOT NULL",
    "password text",  # sealed (crypto.encrypt); NULL on a row bad on its own
    "problem text",  # why the row is bad on its own, NULL when it is not
)
_JUDGED_COLUMNS = (
    "dup_of integer",  # the earlier row of the same code (rows good on their own)
    "taken boolean NOT NULL DEFAULT false",  # the code is already stored
)
_MARK_DUPLICATES = f"""
    UPDATE {_STAGING} r SET dup_of = f.row_no
    FROM (
        SELECT code, min(row_no) AS row_no FROM {_STAGING} WHERE problem IS NULL
        GROUP BY code HAVING count(*) > 1
    ) f
    WHERE r.problem IS NULL AND r.code = f.code AND r.row_no > f.row_no
"""
_MARK_TAKEN = f"""
    UPDATE {_STAGING} r SET taken = true
    FROM {PickupCode._meta.db_table} p
    WHERE r.problem IS NULL AND r.dup_of IS NULL AND p.code = r.code
"""
_GOOD = "problem IS NULL AND dup_of IS NULL AND NOT taken"
_COUNTS = f"""
    SELECT count(*) FILTER (WHERE {_GOOD}),
        count(*) FILTER (WHERE dup_of IS NOT NULL OR taken),
        count(*) FILTER (WHERE problem IS NOT NULL)
    FROM {_STAGING}
"""
# The good rows, in the file's order, take the serials from `start` on.
_INSERT_CODES = f"""
    INSERT INTO {PickupCode._meta.db_table} (serial, code, password, card_type_id, batch_id,
        status, enabled, shipped, picked_up, red_packet_amount)
    SELECT %(start)s + row_number() OVER (ORDER BY row_no) - 1, code, password, %(card_type)s,
        %(batch)s, %(status)s, true, false, false, 0
    FROM {_STAGING} WHERE {_GOOD}
    ORDER BY row_no
    ON CONFLICT DO NOTHING
"""
_BAD_ROWS = f"""
    SELECT row_no, code, problem, dup_of FROM {_STAGING} WHERE NOT ({_GOOD}) ORDER BY row_no
"""


def _parse_import(rows) -> Iterator[tuple[int, str, str | None, str | None]]:
    """The staged rows of the file: (row number, code, sealed password, problem), the password
    None and the problem the reason when the row is bad on its own. A wrong header refuses the
    file (raised while it is read)."""
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
        code = row[0].strip().upper()
        password = row[1].strip() if len(row) > 1 else ""
        if len(row) > 2 and any(cell for cell in row[2:]):
            problem = "列数不正确：只应有提货码和密码两列"
        elif not CODE_RE.match(code):
            problem = "提货码格式不正确：应为4～40位字母或数字"
        elif not password:
            problem = "密码为空"
        elif len(password) > 40 or not password.isprintable():
            problem = "密码格式不正确：最多40位可见字符"
        else:
            yield number, code, encrypt(password), None
            continue
        yield number, code, None, problem


def run_code_import(
    record: ImportRecord, *, progress: Callable[[int], None] | None = None
) -> ImportRecord:
    """Import the valid rows of the file in one transaction; report every bad row in the error
    file. `progress(rows read)` is called after each chunk (a cancel raises from it: nothing is
    written)."""
    if record.status == ImportRecord.Status.DONE:
        return record
    try:
        with record.original_file.open("rb") as fh, transaction.atomic():
            total = staging.stage_rows(
                table=_STAGING,
                columns=_STAGING_COLUMNS,
                later_columns=_JUDGED_COLUMNS,
                records=_parse_import(read_rows(fh, filename=record.original_name)),
                chunk_rows=IMPORT_CHUNK_ROWS,
                after_chunk=progress,
            )
            if total == 0:
                raise Refused("pickup_refused", "文件中没有提货码")
            _store_import(record, total)
            staging.drop_staging(_STAGING)
    except (SpreadsheetError, Refused) as exc:
        record.status = ImportRecord.Status.FAILED
        record.error = str(exc)[:500]
        record.save(update_fields=["status", "error"])
    return record


def _store_import(record: ImportRecord, total: int) -> None:
    """Judge the staged rows, store the good ones in a new batch, keep the counts and the error
    file on the record; inside run_code_import's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(_MARK_DUPLICATES)
        cursor.execute(_MARK_TAKEN)
        cursor.execute(_COUNTS)
        good, duplicates, invalid = cursor.fetchone()
        batch = None
        if good:
            start = reserve_serials(good)
            batch = CodeBatch.objects.create(
                card_type=record.card_type,
                source=CodeBatch.Source.IMPORTED,
                quantity=good,
                serial_start=start,
                created_by=record.created_by,
                note=f"导入：{record.original_name}"[:200],
            )
            cursor.execute(
                _INSERT_CODES,
                {
                    "start": start,
                    "card_type": record.card_type_id,
                    "batch": batch.pk,
                    "status": PickupCode.Status.UNUSED,
                },
            )
            if cursor.rowcount != good:
                # Another import stored one of these codes meanwhile: take nothing.
                raise Refused("pickup_refused", "导入期间有相同的提货码被同时写入，请重新导入")
            if good >= ANALYZE_AFTER:
                cursor.execute(f"ANALYZE {PickupCode._meta.db_table}")
    record.batch = batch
    record.total_rows = total
    record.imported = good
    record.duplicates = duplicates
    record.invalid = invalid
    record.status = ImportRecord.Status.DONE
    if duplicates or invalid:
        _attach_error_file(record)
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


def _error_rows() -> Iterator[tuple[int, str, str]]:
    """(row number, code, reason) of every bad staged row, by row, as the cursor streams."""
    for row_no, code, problem, dup_of in staging.stream_rows(_BAD_ROWS):
        if problem:
            reason = problem
        elif dup_of is not None:
            reason = f"文件内重复：与第{dup_of}行相同"
        else:
            reason = "与系统中已有的提货码重复"
        yield row_no, code, reason


def _attach_error_file(record: ImportRecord) -> None:
    """The error file, written row by row into a temporary file and stored with the record."""
    with tempfile.TemporaryFile() as fh:
        write_csv(fh, headers=["行号", "提货码", "原因"], rows=_error_rows())
        fh.seek(0)
        record.error_file.save(f"import-{record.pk}-errors.csv", File(fh), save=False)


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
