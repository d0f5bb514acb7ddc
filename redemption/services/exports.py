"""The redemption records export: the lines matching the records page's filters, as an .xlsx in
the download centre (runner in redemption.jobs)."""

from django.db import transaction
from django.utils.translation import gettext as _

from couponhub.core.audit import record_audit
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job

RECORDS_EXPORT = "redemption.export_records"


def start_records_export(*, actor, query: dict, total: int) -> Job:
    with transaction.atomic():
        job = enqueue_job(
            kind=RECORDS_EXPORT,
            title=_("Redemption records export"),
            owner=actor,
            params={"query": query},
            total=total,
        )
        record_audit(actor=actor, action="redemption.export", obj=job, after={"query": query})
    return job
