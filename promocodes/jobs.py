"""Background jobs of the promo-code domain."""

from django.utils import timezone
from django.utils.translation import gettext as _

from couponhub.core.jobs import attach_result_file, job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.spreadsheets import write_xlsx
from promocodes import selectors, services
from promocodes.models import PromoCodeApplication

PROGRESS_EVERY = 2000
FMT = "%Y-%m-%d %H:%M:%S"


def _when(value) -> str:
    return timezone.localtime(value).strftime(FMT) if value else ""


EXPORT_HEADERS = [
    "优惠码",
    "活动名称",
    "使用规则",
    "有效开始时间",
    "有效结束时间",
    "最大使用次数",
    "单用户使用次数",
    "使用平台",
    "配送方式",
    "用户级别",
    "限制商家",
    "限制品类",
    "限制门店",
    "已使用次数",
]


@job_runner("promocodes.export_codes")
def export_codes(job: Job) -> None:
    """The whole file is written again on a re-run, so it always holds every code once."""
    application = PromoCodeApplication.objects.select_related("merchant", "category").get(
        pk=job.params["application_id"]
    )
    stores = "、".join(application.stores.values_list("name", flat=True)) or "不限"
    codes = list(application.codes.order_by("code"))
    fmt = "%Y-%m-%d %H:%M"
    common = [
        application.activity_name,
        application.rule_text,
        timezone.localtime(application.valid_from).strftime(fmt),
        timezone.localtime(application.valid_to).strftime(fmt),
        application.max_uses or "不限",
        application.per_user_limit or "不限",
        str(application.get_platform_display()),
        str(application.get_delivery_display()),
        str(application.get_user_level_display()),
        application.merchant.name if application.merchant else "不限",
        application.category.name if application.category else "不限",
        stores,
    ]
    set_progress(job, 0, len(codes))

    def write(path):
        write_xlsx(
            path,
            headers=EXPORT_HEADERS,
            rows=([c.code, *common, c.uses_count] for c in codes),
            sheet_name="优惠码",
        )

    attach_result_file(job, f"{_('promo codes')}-{application.number}.xlsx", write)
    set_progress(job, len(codes), len(codes))


@job_runner(services.APPLICATIONS_EXPORT)
def export_applications(job: Job) -> None:
    """The application list as its owner sees it now (scope, filters, status tab)."""
    applications = selectors.applications_matching(job.owner, job.params.get("query", {}))
    set_progress(job, 0, applications.count())
    headers = [
        _("application number"),
        _("activity name"),
        _("channel"),
        _("department"),
        _("subject"),
        _("number of codes"),
        _("usage rule"),
        _("valid from"),
        _("valid to"),
        _("status"),
        _("created"),
    ]

    def rows():
        for n, a in enumerate(applications.iterator(chunk_size=1000), start=1):
            if n % PROGRESS_EVERY == 0:
                set_progress(job, n)
            yield [
                a.number,
                a.activity_name,
                a.channel.name,
                a.department.name,
                a.get_subject_display(),
                a.code_count,
                a.rule_text,
                _when(a.valid_from),
                _when(a.valid_to),
                str(PromoCodeApplication.DisplayStatus(a.display_status()).label),
                _when(a.created_at),
            ]

    attach_result_file(
        job,
        f"promo-applications-{job.pk}.xlsx",
        lambda path: write_xlsx(path, headers=headers, rows=rows(), sheet_name="applications"),
    )


@job_runner(services.USES_EXPORT)
def export_uses(job: Job) -> None:
    """Every use of the codes of the applications the owner's list shows."""
    uses = selectors.uses_matching(job.owner, job.params.get("query", {}))
    set_progress(job, 0, uses.count())
    headers = [
        _("promo code"),
        _("application number"),
        _("activity name"),
        _("order no"),
        _("user id"),
        _("store"),
        _("eligible amount"),
        _("discount"),
        _("charged budget"),
        _("used at"),
        _("cancelled at"),
    ]

    def rows():
        for n, u in enumerate(uses.iterator(chunk_size=2000), start=1):
            if n % PROGRESS_EVERY == 0:
                set_progress(job, n)
            budget = u.charged_budget
            yield [
                u.code.code,
                u.code.application.number,
                u.code.application.activity_name,
                u.order_no,
                u.user_id,
                u.store.name if u.store_id else "",
                u.eligible_amount,
                u.discount,
                budget.department.name if budget else "",
                _when(u.used_at),
                _when(u.cancelled_at),
            ]

    attach_result_file(
        job,
        f"promo-uses-{job.pk}.xlsx",
        lambda path: write_xlsx(path, headers=headers, rows=rows(), sheet_name="uses"),
    )
