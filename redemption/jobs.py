"""Background jobs of the redemption domain: the 票券档案 and 核销记录 exports."""

from django.utils.translation import gettext as _

from couponhub.core.jobs import attach_result_file, job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.permissions import mask_phone, scoped
from couponhub.core.spreadsheets import local_time_text, write_xlsx
from redemption import selectors, services
from redemption.filters import OutsideArchiveFilter
from redemption.forms import PERM
from redemption.outside import ARCHIVE_EXPORT

PROGRESS_EVERY = 1000
HEADERS = [
    "消费号",
    "状态",
    "外部店铺",
    "外部商品",
    "本地票券",
    "手机号",
    "售出时间",
    "核销门店",
    "核销时间",
    "订单号",
    "退券时间",
]


@job_runner(ARCHIVE_EXPORT)
def export_outside_archive(job: Job) -> None:
    """The rows the owner's list showed, read again in the owner's scope (a re-run rewrites the
    whole file)."""
    base = scoped(job.owner, PERM, selectors.outside_coupons(), "shop__org")
    coupons = OutsideArchiveFilter(job.params.get("query", {}), queryset=base).qs
    total = coupons.count()
    set_progress(job, 0, total)

    def rows():
        for n, c in enumerate(coupons.iterator(chunk_size=2000), start=1):
            if n % PROGRESS_EVERY == 0:
                set_progress(job, n)
            store = c.used_store
            yield [
                c.code,
                c.get_status_display(),
                c.shop.name,
                c.mapping.product_name,
                c.activity.name,
                mask_phone(c.phone, job.owner) if c.phone else "",
                local_time_text(c.sold_at),
                f"{store.code}-{store.name}" if store else "",
                local_time_text(c.used_at),
                c.order_no,
                local_time_text(c.returned_at),
            ]

    attach_result_file(
        job,
        f"outside-coupons-{job.pk}.xlsx",
        lambda path: write_xlsx(path, headers=HEADERS, rows=rows(), sheet_name="票券档案"),
    )


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
                local_time_text(r.created_at),
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
