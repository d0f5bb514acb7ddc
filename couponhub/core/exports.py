"""Exports of the core's own lists, run as background jobs."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from couponhub.core import selectors
from couponhub.core.audit import action_label, object_type_label, record_audit
from couponhub.core.filters import AuditEntryFilter
from couponhub.core.jobs import attach_result_file, enqueue_job, job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.spreadsheets import write_xlsx

AUDIT_EXPORT = "core.export_audit_log"
PROGRESS_EVERY = 1000


def start_audit_export(*, actor, query: dict) -> Job:
    """Queue an .xlsx export of the audit entries matching the list page's filters."""
    total = AuditEntryFilter(query, queryset=selectors.audit_entries()).qs.count()
    with transaction.atomic():
        job = enqueue_job(
            kind=AUDIT_EXPORT,
            title=_("Audit log export"),
            owner=actor,
            params={"query": query},
            total=total,
        )
        record_audit(actor=actor, action="audit.export", obj=job, after={"query": query})
    return job


@job_runner(AUDIT_EXPORT)
def export_audit_log(job: Job) -> None:
    entries = AuditEntryFilter(job.params.get("query", {}), queryset=selectors.audit_entries()).qs
    total = entries.count()
    set_progress(job, 0, total)
    headers = [
        _("time"),
        _("actor"),
        _("action"),
        _("object type"),
        _("object id"),
        _("object"),
        _("note"),
        _("before"),
        _("after"),
    ]

    def rows():
        for n, e in enumerate(entries.iterator(chunk_size=2000), start=1):
            if n % PROGRESS_EVERY == 0:
                set_progress(job, n)
            yield [
                timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                e.actor_name,
                action_label(e.action),
                object_type_label(e.object_type),
                e.object_id,
                e.object_repr,
                e.note,
                "" if e.before is None else str(e.before),
                "" if e.after is None else str(e.after),
            ]

    attach_result_file(
        job,
        f"{_('audit log')}-{job.pk}.xlsx",
        lambda path: write_xlsx(path, headers=headers, rows=rows(), sheet_name=_("audit log")),
    )
