"""Background runners of the members app."""

from django.db import transaction

from couponhub.core.errors import Refused
from couponhub.core.jobs import job_runner, raise_if_cancelled, set_progress
from couponhub.core.models import Job
from couponhub.core.spreadsheets import SpreadsheetError, read_rows
from members import services
from members.models import MemberImport


@job_runner("members.import")
def import_members(job: Job) -> None:
    """All or nothing: any bad row → nothing written and every bad row reported (the first 5,000
    kept on the import, 200 in the job's result). The file is read as it streams."""
    imp = MemberImport.objects.get(job=job)
    if imp.imported:
        return  # an earlier run committed
    try:
        with imp.file.open("rb") as fh, transaction.atomic():
            outcome = services.import_member_rows(
                actor=job.owner,
                rows=read_rows(fh, filename=imp.original_name),
                # one transaction: a cancel is looked for per chunk, progress is shown at the end
                progress=lambda _done: raise_if_cancelled(job),
            )
            if not outcome.error_count:
                MemberImport.objects.filter(pk=imp.pk).update(
                    total_rows=outcome.total, imported=outcome.imported, errors=[]
                )
    except SpreadsheetError as exc:
        MemberImport.objects.filter(pk=imp.pk).update(errors=[{"row": 0, "error": exc.message}])
        raise Refused("import_refused", exc.message) from exc
    if outcome.error_count:
        set_progress(job, 0, outcome.total)
        MemberImport.objects.filter(pk=imp.pk).update(
            total_rows=outcome.total, errors=outcome.errors[:5000]
        )
        Job.objects.filter(pk=job.pk).update(result={"errors": outcome.errors[:200]})
        raise Refused(
            "import_refused",
            f"{outcome.error_count}行有错误，未导入任何会员："
            + "；".join(f"第{e['row']}行：{e['error']}" for e in outcome.errors[:5]),
        )
    Job.objects.filter(pk=job.pk).update(result={"imported": outcome.imported})
    set_progress(job, outcome.total, outcome.total)
