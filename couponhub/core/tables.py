import django_tables2 as tables
from django.template.loader import get_template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_tables2.columns.base import library

from couponhub.core.audit import action_label, describe_changes, object_type_label
from couponhub.core.events import EVENT_TYPES
from couponhub.core.models import AuditEntry, EventDelivery, Job, SmsMessage
from couponhub.core.money import MoneyField, format_yuan
from couponhub.core.sms import purpose_label


@library.register
class MoneyColumn(tables.Column):
    """Money as ¥1,234.00, right-aligned. Every MoneyField a table lists in Meta.fields gets
    this column by itself (registered with django-tables2's column library)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"th": {"class": "num"}, "td": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return format_yuan(value)

    @classmethod
    def from_field(cls, field, **kwargs):
        if isinstance(field, MoneyField):
            return cls(**kwargs)
        return None


class TemplateColumn(tables.TemplateColumn):
    """A TemplateColumn whose cell template is rendered with the page's context as it stands
    (its context processors ran once, for the page) instead of a new RequestContext a cell,
    which runs every context processor again for each row (twenty rows: twenty times)."""

    def render(self, record, table, value, bound_column, **kwargs):
        parent = getattr(table, "context", None)
        if parent is None or self.template_code:
            return super().render(record, table, value, bound_column, **kwargs)
        context = self.get_context_data(
            record=record, table=table, value=value, bound_column=bound_column, **kwargs
        )
        with parent.update(context):
            return get_template(self.template_name).render(parent.flatten())


class Table(tables.Table):
    """Every list table of ours: an empty one says 暂无数据 (django-tables2 draws no empty row
    unless the table has an empty_text)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.empty_text:
            self.empty_text = _("No records")


class AuditEntryTable(Table):
    changes = tables.Column(_("before → after"), empty_values=(), orderable=False)

    class Meta:
        model = AuditEntry
        fields = ["created_at", "actor_name", "action", "object_type", "object_repr", "note"]
        order_by = ["-created_at"]

    def render_action(self, value):
        return action_label(value)

    def render_object_type(self, value):
        return object_type_label(value)

    def render_changes(self, record):
        if record.before is None and record.after is None:
            return "—"
        rows = describe_changes(record.object_type, record.before, record.after)
        if not rows:
            return "—"
        return format_html(
            '<details><summary>{}</summary><dl class="changes">{}</dl></details>',
            _("show"),
            format_html_join("", "<dt>{}</dt><dd>{} → {}</dd>", rows),
        )


class JobTable(Table):
    title = tables.LinkColumn("core:job_detail", args=[tables.A("pk")])
    progress = TemplateColumn(
        template_name="core/_job_progress_cell.html", verbose_name=_("progress"), orderable=False
    )
    download = TemplateColumn(
        template_name="core/_job_download_cell.html", verbose_name=_("file"), orderable=False
    )

    class Meta:
        model = Job
        fields = ["title", "status", "progress", "created_at", "finished_at", "download"]


class SmsMessageTable(Table):
    class Meta:
        model = SmsMessage
        fields = ["created_at", "phone", "purpose", "text", "status", "cost", "error"]

    def render_purpose(self, value):
        return purpose_label(value)


class EventDeliveryTable(Table):
    event_type = tables.Column(_("event type"), accessor="event__type")
    event_id = tables.LinkColumn(
        "core:event_delivery",
        args=[tables.A("pk")],
        accessor="event__uuid",
        verbose_name=_("event id"),
    )
    created = tables.Column(_("time"), accessor="event__created_at")
    resend = TemplateColumn(
        template_name="core/_resend_cell.html", verbose_name="", orderable=False
    )

    class Meta:
        model = EventDelivery
        fields = ["subscriber", "status", "attempts", "next_attempt_at", "last_error"]
        sequence = ["created", "event_type", "event_id", *fields, "resend"]
        orderable = False

    def render_event_type(self, value):
        return EVENT_TYPES.get(value, value)
