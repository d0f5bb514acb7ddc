import json

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from couponhub.core.audit import action_label, object_type_label
from couponhub.core.models import AuditEntry, Job, SmsMessage
from couponhub.core.sms import purpose_label


class AuditEntryTable(tables.Table):
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

    def render_purpose(self, value):
        return purpose_label(value)
