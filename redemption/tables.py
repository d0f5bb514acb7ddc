import django_tables2 as tables
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.permissions import can_view_full_phone, mask_phone
from couponhub.core.tables import Table
from redemption import selectors
from redemption.filters import OUTSIDE_APP
from redemption.models import OutsideCoupon, Redemption


class RecordTable(Table):
    """One row per redeemed coupon, as the seed's 优惠券核销记录 shows it: our redemption lines
    and outside-coupon redemptions (with their 消费号) in one list. The data is
    `selectors.record_rows` (kind, row_id, at); each page's objects are loaded at once by
    `selectors.record_objects` when the first cell is rendered."""

    number = tables.Column(_("No."), empty_values=(), orderable=False)
    coupon_info = tables.Column(_("Coupon information"), empty_values=(), orderable=False)
    member_info = tables.Column(_("Member information"), empty_values=(), orderable=False)
    redemption_info = tables.Column(_("Redemption information"), empty_values=(), orderable=False)
    actions = tables.Column(_("Actions"), empty_values=(), orderable=False)

    class Meta:
        sequence = ["number", "coupon_info", "member_info", "redemption_info", "actions"]
        attrs = {"class": "table records-table"}
        orderable = False

    def __init__(self, *args, can_return=False, can_link=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_return = can_return
        self.can_link = can_link
        self._objects = None

    @cached_property
    def _full_phone(self) -> bool:
        # asked once for the table, not once a row
        return can_view_full_phone(self.request.user)

    def _phone(self, phone: str) -> str:
        return phone if self._full_phone else mask_phone(phone)

    def _obj(self, record):
        if self._objects is None:
            page = getattr(self, "page", None)
            rows = [r.record for r in page.object_list] if page else [r.record for r in self.rows]
            self._objects = selectors.record_objects(rows)
        return self._objects[(record["kind"], record["row_id"])]

    def render_number(self, record):
        page = getattr(self, "page", None)
        start = page.start_index() if page else 1
        return start + self._row_index(record)

    def _row_index(self, record):
        if not hasattr(self, "_rows_seen"):
            self._rows_seen = {}
        key = (record["kind"], record["row_id"])
        return self._rows_seen.setdefault(key, len(self._rows_seen))

    def render_coupon_info(self, record):
        obj = self._obj(record)
        if record["kind"] == "outside":
            returned = obj.status != OutsideCoupon.Status.USED
            name, code_label, code = obj.activity.name, _("consumption number"), obj.code
        else:
            returned = obj.returned_at is not None
            name, code_label, code = obj.coupon.rule.name, _("Code"), obj.coupon.code
        state, css = (_("Returned"), "tag tag-gray") if returned else (_("Redeemed"), "tag tag-ok")
        return format_html(
            '<div class="rec-name">{}</div><span class="{}">{}</span> '
            '<span class="muted">{}:</span> <b>{}</b>',
            name,
            css,
            state,
            code_label,
            code,
        )

    def render_member_info(self, record):
        obj = self._obj(record)
        if record["kind"] == "outside":
            member, phone = obj.member, obj.phone
        else:
            member = obj.coupon.member or obj.redemption.member
            phone = member.phone if member else ""
        if member is None:
            if phone:
                return format_html(
                    '<div class="muted small">{}: {}</div>',
                    _("Phone"),
                    self._phone(phone),
                )
            return "—"
        return format_html(
            '<div>{}</div><div class="muted small">{}: {}</div>'
            '<div class="muted small">{}: {}</div>',
            member.name or member.member_no,
            _("Card number"),
            member.card_no,
            _("Phone"),
            self._phone(member.phone),
        )

    def render_redemption_info(self, record):
        obj = self._obj(record)
        if record["kind"] == "outside":
            store, at = obj.used_store, obj.used_at
            api = obj.used_by.startswith("api:")
            app = obj.used_by.removeprefix("api:") if api else OUTSIDE_APP
            method = Redemption.Method.API.label if api else Redemption.Method.SCAN.label
            order_no, operator = obj.order_no, obj.used_by.removeprefix("api:")
        else:
            r = obj.redemption
            store, at, app, order_no = r.store, r.created_at, r.app, r.order_no
            method, operator = r.get_method_display(), r.operator_name
            if r.link_refusal and not r.order_id:  # the order came and did not fit
                order_no = format_html(
                    '{}<div class="field-error small">{}</div>', _("Not linked"), r.link_refusal
                )
        return format_html(
            "<div>{}: {}-{}</div><div>{}: {}</div><div>{}: {}</div>"
            '<div class="muted small">{} {} · {}</div>',
            pgettext_lazy("redemption", "Store"),
            store.code,
            store.name,
            _("App"),
            app,
            pgettext_lazy("redemption", "Order number"),
            order_no or _("Not linked"),
            method,
            timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
            operator,
        )

    def render_actions(self, record):
        obj = self._obj(record)
        if record["kind"] == "outside":  # returned at the till that redeemed it, on the day
            return "—"
        return render_to_string(
            "redemption/_record_actions.html",
            {
                "line": obj,
                "can_return": self.can_return,
                "can_link": self.can_link,
                # no request: context processors would run once per row
                "csrf_token": get_token(self.request),
                "next": self.request.get_full_path(),
            },
        )


class OutsideArchiveTable(Table):
    """票券档案: one row per outside coupon."""

    code = tables.LinkColumn(
        "redemption:outside_coupon", args=[tables.A("pk")], verbose_name=_("consumption number")
    )
    status = tables.Column(_("Status"))
    shop = tables.Column(_("outside shop"), accessor="shop__name")
    product = tables.Column(_("outside product"), accessor="mapping__product_name")
    activity = tables.Column(_("local coupon"), accessor="activity__name")
    phone = tables.Column(_("phone"), empty_values=())
    sold_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("sold at"))
    used_store = tables.Column(_("redeeming store"), empty_values=())
    used_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("used at"))
    order_no = tables.Column(_("order number"))
    returned_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("returned at"))

    class Meta:
        model = OutsideCoupon
        fields = []
        sequence = [
            "code",
            "status",
            "shop",
            "product",
            "activity",
            "phone",
            "sold_at",
            "used_store",
            "used_at",
            "order_no",
            "returned_at",
        ]
        attrs = {"class": "table", "id": "outside-archive"}
        orderable = False

    def render_status(self, record):
        return record.get_status_display()

    def render_phone(self, record):
        return mask_phone(record.phone, self.request.user) if record.phone else "—"

    def render_used_store(self, record):
        store = record.used_store
        return f"{store.code}-{store.name}" if store else "—"
