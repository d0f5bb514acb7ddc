"""Background job runners of the pickup app. Each derives what is left from the database."""

import shutil

from django.conf import settings
from django.utils.translation import gettext as _

from couponhub.core.cardsheets import Card, run_card_job
from couponhub.core.errors import Refused
from couponhub.core.jobs import attach_result_file, job_runner, raise_if_cancelled, set_progress
from couponhub.core.models import Job
from couponhub.core.money import format_yuan
from couponhub.core.spreadsheets import write_xlsx
from pickup import selectors, services
from pickup.models import CodeBatch, ExportRecord, ImportRecord


@job_runner("pickup.generate_codes")
def generate_codes(job: Job) -> None:
    batch = CodeBatch.objects.get(pk=job.params["batch_id"])
    services.fill_code_batch(batch, progress=lambda done, total: set_progress(job, done, total))
    job.result = {"批次": batch.pk, "提货码数量": batch.quantity}
    Job.objects.filter(pk=job.pk).update(result=job.result)


@job_runner("pickup.generate_red_packets")
def generate_red_packets(job: Job) -> None:
    params = job.params
    owner = job.owner
    generated = services.generate_red_packets(
        actor=owner,
        selection=params["selection"],
        low=params["low"],
        high=params["high"],
        job=job,
        progress=lambda done, total: set_progress(job, done, total),
    )
    result = {"提货码数量": generated.codes, "预留金额": format_yuan(generated.amount)}
    Job.objects.filter(pk=job.pk).update(result=result, total=generated.codes)


@job_runner("pickup.import_codes")
def import_codes(job: Job) -> None:
    record = ImportRecord.objects.get(pk=job.params["import_id"])
    # one transaction: a cancel is looked for per chunk (nothing is written), progress at the end
    record = services.run_code_import(record, progress=lambda _rows: raise_if_cancelled(job))
    result = {
        "导入": record.imported,
        "重复": record.duplicates,
        "无效": record.invalid,
    }
    if record.error:
        result["错误"] = record.error
    Job.objects.filter(pk=job.pk).update(result=result, total=record.total_rows)
    set_progress(job, record.total_rows, record.total_rows)
    if record.error_file:

        def copy_errors(path):
            with record.error_file.open("rb") as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target)

        attach_result_file(job, f"{_('pickup code import errors')}-{record.pk}.csv", copy_errors)
    if record.status == ImportRecord.Status.FAILED:
        # one status for the import and its job: the job fails with the record's reason
        raise Refused("import_failed", record.error or _("The import failed."), 409)


@job_runner("pickup.export_codes")
def export_codes(job: Job) -> None:
    record = ExportRecord.objects.get(pk=job.params["export_id"])
    base_url = job.params.get("base_url") or getattr(settings, "PICKUP_PUBLIC_URL", "")
    total = job.total
    written = 0

    def write(path):
        nonlocal written
        written = selectors.write_code_export(
            path,
            selection=record.selection,
            columns=record.columns,
            file_format=record.file_format,
            base_url=base_url,
            progress=lambda done: set_progress(job, done, max(total, done)),
        )

    filename = selectors.export_filename(
        f"{_('pickup codes export')}-{record.pk}", record.file_format
    )
    attach_result_file(job, filename, write)
    ExportRecord.objects.filter(pk=record.pk).update(row_count=written)
    Job.objects.filter(pk=job.pk).update(result={"行数": written})


@job_runner("pickup.export_orders")
def export_orders(job: Job) -> None:
    """Write the filtered orders to one .xlsx; a re-run writes the whole file again."""
    kind = job.params["kind"]
    name = _("online pickup orders") if kind == "online" else _("store pickup orders")
    orders = selectors.filtered_orders(kind, job.params.get("query") or {})
    written = 0

    def write(path):
        nonlocal written
        written = write_xlsx(
            path,
            headers=selectors.ORDER_EXPORT_HEADERS,
            rows=selectors.order_export_rows(orders),
            sheet_name=name,
        )

    attach_result_file(job, selectors.export_filename(name, "xlsx"), write)
    set_progress(job, written, written)
    Job.objects.filter(pk=job.pk).update(result={"行数": written})


@job_runner("pickup.print_cards")
def print_cards(job: Job) -> None:
    """Card sheets of the selected codes: QR of the pickup URL, password in the scratch-off
    area. The codes are read as the export reads them (one server-side cursor, by serial)."""
    base_url = job.params.get("base_url") or getattr(settings, "PICKUP_PUBLIC_URL", "")
    notes = job.params.get("notes", "")
    rows = selectors.export_rows(
        job.params["selection"],
        ["serial", "code", "password", "card_type", "url"],
        base_url=base_url,
    )
    cards = (
        Card(
            serial=str(serial),
            code=code,
            password=password,
            title=card_type,
            qr_text=url,
            notes=notes,
        )
        for serial, code, password, card_type, url in rows
    )
    result = run_card_job(job, cards, name=f"pickup-cards-{job.pk}")
    Job.objects.filter(pk=job.pk).update(result=result)
