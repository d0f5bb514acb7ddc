"""Background runners of the redemption app."""

from django.utils import timezone
from django.utils.translation import gettext as _

from couponhub.core.jobs import attach_result_file, job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.permissions import mask_phone
from couponhub.core.spreadsheets import write_xlsx
from redemption import selectors, services

PROGRESS_EVERY = 2000


@job_runner(services.RECORDS_EXPORT)
def export_records(job: Job) -> None:
    """The records as their owner sees them now (their stores, the page's filters)."""
    owner = job.owner
    lines = selectors.records_for(owner, job.params.get("query", {}))
    set_progress(job, 0, lines.count())
    headers = [
        _("Redemption number"),
        _("Time"),
        _("Store"),
        _("Coupon code"),
        _("Coupon name"),
        _("Card number"),
        _("Phone"),
        _("Redemption method"),
        _("Redemption app"),
        _("Operator"),
        _("Order number"),
        _("Status"),
    ]

    def rows():
        for n, line in enumerate(lines.iterator(chunk_size=2000), start=1):
            if n % PROGRESS_EVERY == 0:
                set_progress(job, n)
            r, member = line.redemption, line.redemption.member
            yield [
                r.redemption_no,
                timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                r.store.name,
                line.coupon.code,
                line.coupon.rule.name,
                member.card_no if member else "",
                mask_phone(member.phone, owner) if member else "",
                r.get_method_display(),
                r.app,
                r.operator_name,
                r.order_no or (r.order.order_no if r.order_id else ""),
                _("Returned") if line.returned_at else _("Redeemed"),
            ]

    attach_result_file(
        job,
        f"redemption-records-{job.pk}.xlsx",
        lambda path: write_xlsx(path, headers=headers, rows=rows(), sheet_name="records"),
    )
