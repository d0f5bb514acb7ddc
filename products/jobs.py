"""Background runners of the product master."""

from django.utils.translation import gettext as _

from couponhub.core.errors import Refused
from couponhub.core.jobs import attach_result_file, job_runner, raise_if_cancelled, set_progress
from couponhub.core.models import Job
from couponhub.core.spreadsheets import SpreadsheetError, read_rows
from products import services
from products.models import ProductImport


@job_runner("products.import")
def import_products(job: Job) -> None:
    """Good rows added or updated, bad rows in the error file (the job's file in the download
    centre). The file is read as it streams; one transaction, a cancel looked for per chunk."""
    imp = ProductImport.objects.get(job=job)

    def write_errors(write):
        def to_path(path):
            with open(path, "wb") as fh:
                write(fh)

        attach_result_file(job, f"{_('food import errors')}-{imp.pk}.csv", to_path)

    try:
        with imp.file.open("rb") as fh:
            imp = services.run_product_import(
                imp,
                rows=read_rows(fh, filename=imp.original_name),
                write_errors=write_errors,
                progress=lambda _done: raise_if_cancelled(job),
            )
    except SpreadsheetError as exc:
        raise Refused("import_refused", exc.message) from exc
    result = {"新增": imp.created_count, "更新": imp.updated_count, "错误行": imp.invalid_count}
    Job.objects.filter(pk=job.pk).update(result=result)
    set_progress(job, imp.total_rows, imp.total_rows)
