"""Report exports: each report registers how to turn (user, query) into headers and rows; one
job runner streams any of them into an .xlsx in the download centre (memory stays flat: rows are
read with a server-side cursor in chunks and written by XlsxWriter in constant-memory mode;
formula injection is neutralised by `write_xlsx`)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from couponhub.core.audit import record_audit
from couponhub.core.jobs import attach_result_file, enqueue_job, job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.permissions import can_view_full_phone, has_perm, mask_phone, require
from couponhub.core.spreadsheets import local_time_text, write_xlsx
from coupons.models import Coupon, CouponRule
from reports import selectors

EXPORT_KIND = "reports.export"
PROGRESS_EVERY = 5000


@dataclass
class ExportSpec:
    title: str
    filename: str
    headers: list[str]
    rows: Iterable[list]
    total: int


Builder = Callable[..., ExportSpec]
_BUILDERS: dict[str, Builder] = {}
REPORTS = _BUILDERS


def export_builder(name: str):
    def register(func: Builder) -> Builder:
        _BUILDERS[name] = func
        return func

    return register


def start_report_export(*, actor, report: str, query: dict) -> Job:
    """Queue an .xlsx export of `report` with the page's filters (403 without reports.export)."""
    require(actor, "reports.export")
    spec = _BUILDERS[report](actor, query)
    with transaction.atomic():
        job = enqueue_job(
            kind=EXPORT_KIND,
            title=spec.title,
            owner=actor,
            params={"report": report, "query": query},
            total=spec.total,
        )
        record_audit(actor=actor, action="reports.export", obj=job, after={"query": query})
    return job


@job_runner(EXPORT_KIND)
def run_report_export(job: Job) -> None:
    # the owner's scope and phone permission at run time decide what the file holds
    owner = get_user_model().objects.get(pk=job.owner_id)
    require(owner, "reports.export")
    spec = _BUILDERS[job.params["report"]](owner, job.params.get("query", {}))
    set_progress(job, 0, spec.total)

    def rows():
        for n, row in enumerate(spec.rows, start=1):
            if n % PROGRESS_EVERY == 0:
                set_progress(job, n)
            yield row

    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    attach_result_file(
        job,
        f"{spec.filename}-{stamp}.xlsx",
        lambda path: write_xlsx(path, headers=spec.headers, rows=rows(), sheet_name=spec.filename),
    )


# --- U享值兑换优惠券明细 ------------------------------------------------------------

U_VALUE_FIELDS = (
    "issue_date",
    "campaign_name",
    "campaign_code",
    "rule_code",
    "coupon_name",
    "description",
    "min_order_amount",
    "benefit",
    "value_label",
    "u_value_paid",
    "u_value_yuan",
    "coupon_code",
    "member_name",
    "member_card",
    "member_phone",
    "status",
    "obtained_at",
    "used_at",
    "used_store_name",
    "order_no",
)


@export_builder("u_value")
def u_value_export(user, query: dict) -> ExportSpec:
    facts = selectors.u_value_facts(user, query)
    show_cost = has_perm(user, "reports.view_cost")
    full_phone = can_view_full_phone(user)
    headers = [
        _("issue date"),
        _("campaign name"),
        _("campaign code"),
        _("rule code"),
        _("coupon name"),
        _("coupon benefit description"),
        _("coupon benefit (orders from)"),
        pgettext("report", "coupon type"),
        _("coupon value"),
        pgettext("report", "U-value paid"),
        *([_("U-value in yuan")] if show_cost else []),
        _("coupon code"),
        _("member name"),
        _("member card number"),
        pgettext("member", "member phone"),
        _("coupon status"),
        _("credited at"),
        _("redeemed at"),
        _("redeeming store"),
        _("order no"),
    ]
    benefits = {v: str(label) for v, label in CouponRule.Benefit.choices}
    statuses = {v: str(label) for v, label in Coupon.Status.choices}

    def rows():
        for r in facts.values_list(*U_VALUE_FIELDS).iterator(chunk_size=5000):
            yield [
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                benefits.get(r[7], r[7]),
                r[8],
                r[9],
                *([r[10]] if show_cost else []),
                r[11],
                r[12],
                r[13],
                r[14] if full_phone else mask_phone(r[14]),
                statuses.get(r[15], r[15]),
                local_time_text(r[16]),
                local_time_text(r[17]),
                r[18],
                r[19],
            ]

    return ExportSpec(
        title=_("U-value exchange coupon details export"),
        filename=_("U-value exchange coupon details"),
        headers=[str(h) for h in headers],
        rows=rows(),
        total=facts.count(),
    )
