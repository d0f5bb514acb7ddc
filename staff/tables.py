import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from couponhub.core.models import User
from couponhub.core.tables import Table


class UserTable(Table):
    username = tables.LinkColumn(
        "staff:user_detail", args=[tables.A("pk")], verbose_name=_("username")
    )
    first_name = tables.Column(verbose_name=_("full name"))
    phone = tables.Column(verbose_name=_("phone"))
    roles = tables.Column(verbose_name=_("roles"), empty_values=(), orderable=False)
    state = tables.Column(verbose_name=_("status"), empty_values=(), orderable=False)
    last_login = tables.DateTimeColumn(verbose_name=_("last log-in"))

    class Meta:
        model = User
        fields = ["username", "first_name", "phone", "roles", "state", "last_login"]
        order_by = ["username"]

    def render_roles(self, record):
        items = [(a.get_role_display(), a.org.name) for a in record.role_assignments.all()]
        if not items:
            return "—"
        return format_html_join("、", "{}@{}", items)

    def render_state(self, record):
        if not record.is_active:
            return format_html('<span class="tag tag-gray">{}</span>', _("deactivated"))
        if record.locked:
            return format_html('<span class="tag">{}</span>', _("locked out"))
        return format_html('<span class="tag tag-ok">{}</span>', _("active"))
