"""Exports of the application list: the applications themselves, or every use of their codes,
as an .xlsx in the download centre (runners in promocodes.jobs)."""

from django.db import transaction
from django.utils.translation import gettext as _

from couponhub.core.audit import record_audit
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job

APPLICATIONS_EXPORT = "promocodes.export_applications"
USES_EXPORT = "promocodes.export_uses"


def start_list_export(*, actor, query: dict, uses: bool, total: int) -> Job:
    with transaction.atomic():
        job = enqueue_job(
            kind=USES_EXPORT if uses else APPLICATIONS_EXPORT,
            title=_("Promo code uses export") if uses else _("Promo code applications export"),
            owner=actor,
            params={"query": query},
            total=total,
        )
        record_audit(
            actor=actor,
            action="promocodes.export_list",
            obj=job,
            after={"query": query, "uses": uses},
        )
    return job
