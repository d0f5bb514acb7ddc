"""Background jobs of the promo-code domain."""

from django.utils import timezone
from django.utils.translation import gettext as _

from couponhub.core.jobs import attach_result_file, job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.spreadsheets import write_xlsx
from promocodes.models import PromoCodeApplication

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
