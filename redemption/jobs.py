"""Background jobs of the redemption domain: the 票券档案 export."""

from django.utils import timezone

from couponhub.core.jobs import attach_result_file, job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.permissions import mask_phone, scoped
from couponhub.core.spreadsheets import write_xlsx
from redemption import selectors
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


def _time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


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
                _time(c.sold_at),
                f"{store.code}-{store.name}" if store else "",
                _time(c.used_at),
                c.order_no,
                _time(c.returned_at),
            ]

    attach_result_file(
        job,
        f"outside-coupons-{job.pk}.xlsx",
        lambda path: write_xlsx(path, headers=HEADERS, rows=rows(), sheet_name="票券档案"),
    )
