"""Background runners of the members app."""

from django.db import transaction

from couponhub.core.errors import Refused
from couponhub.core.jobs import job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.spreadsheets import SpreadsheetError, read_rows
from members import services
from members.models import MemberImport


@job_runner("members.import")
def import_members(job: Job) -> None:
    """All or nothing: any bad row → nothing written and every bad row reported."""
    imp = MemberImport.objects.get(job=job)
    if imp.imported:
        return  # an earlier run committed
    try:
        with imp.file.open("rb") as fh:
            rows = list(read_rows(fh, filename=imp.original_name))
    except SpreadsheetError as exc:
        MemberImport.objects.filter(pk=imp.pk).update(errors=[{"row": 0, "error": exc.message}])
        raise Refused("import_refused", exc.message) from exc
    clean, errors = services.parse_member_rows(rows)
    total = len(clean) + len(errors)
    set_progress(job, 0, total)
    if errors:
        MemberImport.objects.filter(pk=imp.pk).update(total_rows=total, errors=errors[:5000])
        Job.objects.filter(pk=job.pk).update(result={"errors": errors[:200]})
        raise Refused(
            "import_refused",
            f"{len(errors)}行有错误，未导入任何会员："
            + "；".join(f"第{e['row']}行：{e['error']}" for e in errors[:5]),
        )
    with transaction.atomic():
        count = services.import_members(actor=job.owner, rows=clean)
        MemberImport.objects.filter(pk=imp.pk).update(total_rows=total, imported=count, errors=[])
    Job.objects.filter(pk=job.pk).update(result={"imported": count})
    set_progress(job, total)
