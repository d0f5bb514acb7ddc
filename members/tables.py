import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from couponhub.core.permissions import mask_phone
from couponhub.core.tables import Table
from members.models import Member, MemberImport, MemberTag


class MemberTable(Table):
    selection = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": ""}})
    member_no = tables.LinkColumn(
        "redemption:member_detail", args=[tables.A("pk")], verbose_name=_("member ID")
    )
    registration_store = tables.Column(_("registration store"), accessor="registration_store__name")
    tags = tables.Column(_("tags"), empty_values=(), orderable=False)

    class Meta:
        model = Member
        fields = [
            "selection",
            "member_no",
            "name",
            "phone",
            "card_no",
            "level",
            "tags",
            "registration_store",
            "source",
            "registered_at",
            "points",
            "u_value",
            "stored_value",
        ]

    def render_phone(self, value):
        return mask_phone(value, self.request.user)

    def render_tags(self, record):
        # the list prefetches the page's tags in one query (members.selectors.member_list)
        names = [t.name for t in record.tags.all()]
        if not names:
            return "—"
        return format_html_join(" ", '<span class="tag">{}</span>', ((n,) for n in names))


class TagTable(Table):
    name = tables.LinkColumn("members:tag_detail", args=[tables.A("pk")])
    member_count = tables.Column(_("members"))
    members = tables.TemplateColumn(
        "{% load i18n %}<a href=\"{% url 'members:list' %}?tag={{ record.pk }}\">"
        '{% translate "Show members" %}</a>',
        verbose_name="",
        orderable=False,
    )

    class Meta:
        model = MemberTag
        fields = ["name", "note", "member_count", "created_at", "members"]


class MemberImportTable(Table):
    job = tables.LinkColumn("core:job_detail", args=[tables.A("job_id")], verbose_name=_("job"))
    status = tables.Column(_("status"), accessor="job__status", orderable=False)
    errors = tables.Column(_("errors"), orderable=False, empty_values=())

    class Meta:
        model = MemberImport
        fields = [
            "created_at",
            "original_name",
            "total_rows",
            "imported",
            "status",
            "errors",
            "job",
        ]

    def render_job(self, record):
        return record.job.title if record.job else "—"

    def render_status(self, record):
        return record.job.get_status_display() if record.job else "—"

    def render_errors(self, record):
        if not record.errors:
            return "—"
        items = format_html_join(
            "", "<li>第{}行：{}</li>", ((e["row"], e["error"]) for e in record.errors[:200])
        )
        return format_html(
            "<details><summary>{}</summary><ul>{}</ul></details>", len(record.errors), items
        )
