import json

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from couponhub.core.events import EVENT_TYPES
from couponhub.core.models import AuditEntry, EventDelivery, Job, SmsMessage


class AuditEntryTable(tables.Table):
    changes = tables.Column(_("before → after"), empty_values=(), orderable=False)

    class Meta:
        model = AuditEntry
        fields = ["created_at", "actor_name", "action", "object_type", "object_repr", "note"]
        order_by = ["-created_at"]

    def render_changes(self, record):
        if record.before is None and record.after is None:
            return "—"
        return format_html(
            "<details><summary>{}</summary><pre>{}</pre><pre>{}</pre></details>",
            _("show"),
            json.dumps(record.before, ensure_ascii=False, indent=1),
            json.dumps(record.after, ensure_ascii=False, indent=1),
        )


class JobTable(tables.Table):
    title = tables.LinkColumn("core:job_detail", args=[tables.A("pk")])
    progress = tables.TemplateColumn(
        template_name="core/_job_progress_cell.html", verbose_name=_("progress"), orderable=False
    )
    download = tables.TemplateColumn(
        template_name="core/_job_download_cell.html", verbose_name=_("file"), orderable=False
    )

    class Meta:
        model = Job
        fields = ["title", "status", "progress", "created_at", "finished_at", "download"]


class SmsMessageTable(tables.Table):
    class Meta:
        model = SmsMessage
        fields = ["created_at", "phone", "purpose", "text", "status", "cost", "error"]


class EventDeliveryTable(tables.Table):
    event_type = tables.Column(_("event type"), accessor="event__type")
    event_id = tables.LinkColumn(
        "core:event_delivery",
        args=[tables.A("pk")],
        accessor="event__uuid",
        verbose_name=_("event id"),
    )
    created = tables.Column(_("time"), accessor="event__created_at")
    resend = tables.TemplateColumn(
        template_name="core/_resend_cell.html", verbose_name="", orderable=False
    )

    class Meta:
        model = EventDelivery
        fields = ["subscriber", "status", "attempts", "next_attempt_at", "last_error"]
        sequence = ["created", "event_type", "event_id", *fields, "resend"]
        orderable = False

    def render_event_type(self, value):
        return EVENT_TYPES.get(value, value)
