import django_tables2 as tables
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.permissions import mask_phone
from couponhub.core.tables import Table
from redemption.models import RedemptionLine


class RecordTable(Table):
    """One row per redeemed coupon, as the seed's 优惠券核销记录 shows it."""

    number = tables.Column(_("No."), empty_values=(), orderable=False)
    coupon_info = tables.Column(_("Coupon information"), empty_values=(), orderable=False)
    member_info = tables.Column(_("Member information"), empty_values=(), orderable=False)
    redemption_info = tables.Column(_("Redemption information"), empty_values=(), orderable=False)
    actions = tables.Column(_("Actions"), empty_values=(), orderable=False)

    class Meta:
        model = RedemptionLine
        fields = []
        sequence = ["number", "coupon_info", "member_info", "redemption_info", "actions"]
        attrs = {"class": "table records-table"}

    def __init__(self, *args, can_return=False, can_link=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_return = can_return
        self.can_link = can_link

    def render_number(self, record):
        page = getattr(self, "page", None)
        start = page.start_index() if page else 1
        return start + self._row_index(record)

    def _row_index(self, record):
        if not hasattr(self, "_rows_seen"):
            self._rows_seen = {}
        return self._rows_seen.setdefault(record.pk, len(self._rows_seen))

    def render_coupon_info(self, record):
        coupon = record.coupon
        if record.returned_at:
            state, css = _("Returned"), "tag tag-gray"
        else:
            state, css = _("Redeemed"), "tag tag-ok"
        return format_html(
            '<div class="rec-name">{}</div><span class="{}">{}</span> '
            '<span class="muted">{}:</span> <b>{}</b>',
            coupon.rule.name,
            css,
            state,
            _("Code"),
            coupon.code,
        )

    def render_member_info(self, record):
        member = record.coupon.member or record.redemption.member
        if member is None:
            return "—"
        return format_html(
            '<div>{}</div><div class="muted small">{}: {}</div>'
            '<div class="muted small">{}: {}</div>',
            member.name or member.member_no,
            _("Card number"),
            member.card_no,
            _("Phone"),
            mask_phone(member.phone, self.request.user),
        )

    def render_redemption_info(self, record):
        r = record.redemption
        return format_html(
            "<div>{}: {}-{}</div><div>{}: {}</div><div>{}: {}</div>"
            '<div class="muted small">{} {} · {}</div>',
            pgettext_lazy("redemption", "Store"),
            r.store.code,
            r.store.name,
            _("App"),
            r.app,
            pgettext_lazy("redemption", "Order number"),
            r.order_no or _("Not linked"),
            r.get_method_display(),
            timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
            r.operator_name,
        )

    def render_actions(self, record):
        return render_to_string(
            "redemption/_record_actions.html",
            {
                "line": record,
                "can_return": self.can_return,
                "can_link": self.can_link,
                # no request: context processors would run once per row
                "csrf_token": get_token(self.request),
                "next": self.request.get_full_path(),
            },
        )
