import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.money import format_yuan
from couponhub.core.tables import MoneyColumn, Table, TemplateColumn
from promocodes.models import Channel, DepartmentBudget, PromoCodeApplication


class ApplicationTable(Table):
    selection = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": ""}})
    number = tables.Column(_("application no"), accessor="pk", order_by=("pk",))
    rule = tables.Column(_("discount"), accessor="rule_text", orderable=False)
    code_count = tables.Column(pgettext_lazy("promo code", "codes"))
    window = tables.Column(_("valid period"), accessor="valid_from", orderable=True)
    display_status = tables.Column(_("status"), accessor="status", orderable=False)
    actions = TemplateColumn(
        template_name="promocodes/_application_actions.html",
        verbose_name=_("actions"),
        orderable=False,
    )

    class Meta:
        model = PromoCodeApplication
        fields = [
            "selection",
            "number",
            "activity_name",
            "subject",
            "channel",
            "department",
            "rule",
            "code_count",
            "max_uses",
            "window",
            "display_status",
            "created_by",
            "actions",
        ]
        order_by = ["-number"]

    def render_number(self, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("promocodes:detail", args=[record.pk]), record.number
        )

    def render_max_uses(self, value):
        return value or _("unlimited")

    def render_window(self, record):
        fmt = "%Y-%m-%d %H:%M"
        return format_html(
            "{}<br>{}",
            timezone.localtime(record.valid_from).strftime(fmt),
            timezone.localtime(record.valid_to).strftime(fmt),
        )

    def render_display_status(self, record):
        status = record.display_status()
        return format_html(
            '<span class="tag promo-status-{}">{}</span>',
            status,
            PromoCodeApplication.DisplayStatus(status).label,
        )


class ChannelTable(Table):
    actions = TemplateColumn(
        template_name="promocodes/_channel_actions.html",
        verbose_name=_("actions"),
        orderable=False,
    )

    class Meta:
        model = Channel
        fields = ["name", "prefix", "department", "status", "created_at", "actions"]


class BudgetTable(Table):
    remaining = MoneyColumn(_("remaining"), accessor="pk", orderable=False)
    usage = tables.Column(_("used share"), accessor="pk", orderable=False)

    class Meta:
        model = DepartmentBudget
        fields = ["department", "period_start", "period_end", "amount", "spent", "remaining"]

    def render_remaining(self, record):
        return format_yuan(record.remaining)

    def render_usage(self, record):
        percent = int(record.spent * 100 / record.amount) if record.amount else 0
        return format_html(
            '<progress class="progress" title="{}%" value="{}" max="100">{}%</progress>',
            percent,
            min(percent, 100),
            percent,
        )
