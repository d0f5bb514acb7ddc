"""Coupon list exports: the coupons matching the list page's filters (a rule's coupons, a
campaign's, physical coupons by serial range), as an .xlsx in the download centre."""

from django.db import transaction
from django.utils.translation import gettext as _

from couponhub.core.audit import record_audit
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job

COUPON_EXPORT = "coupons.export_coupons"


def start_coupon_export(*, actor, query: dict, total: int) -> Job:
    """Queue the export; the runner (coupons.jobs) reads the list again with the owner's scope."""
    with transaction.atomic():
        job = enqueue_job(
            kind=COUPON_EXPORT,
            title=_("Coupon list export"),
            owner=actor,
            params={"query": query},
            total=total,
        )
        record_audit(actor=actor, action="coupons.export", obj=job, after={"query": query})
    return job
