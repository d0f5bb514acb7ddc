import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.money import format_yuan
from couponhub.core.permissions import has_perm, mask_phone
from couponhub.core.spreadsheets import local_time_text
from couponhub.core.tables import MoneyColumn, Table
from coupons.models import Coupon, CouponRule
from reports.models import UValueCouponFact


def benefit_label(value: str) -> str:
    try:
        return str(CouponRule.Benefit(value).label)
    except ValueError:
        return value


def status_label(value: str) -> str:
    try:
        return str(Coupon.Status(value).label)
    except ValueError:
        return value


class UValueFactTable(Table):
    issue_date = tables.DateColumn("Y年n月j日", verbose_name=_("issue date"))
    campaign_name = tables.Column(_("campaign name"))
    campaign_code = tables.Column(_("campaign code"))
    rule_code = tables.Column(_("rule code"))
    coupon_name = tables.Column(_("coupon name"))
    description = tables.Column(_("coupon benefit description"))
    min_order_amount = tables.Column(_("coupon benefit (orders from)"))
    benefit = tables.Column(pgettext_lazy("report", "coupon type"))
    value_label = tables.Column(_("coupon value"))
    u_value_paid = tables.Column(pgettext_lazy("report", "U-value paid"))
    u_value_yuan = MoneyColumn(_("U-value in yuan"))
    coupon_code = tables.Column(_("coupon code"))
    member_card = tables.Column(_("member card number"))
    member_phone = tables.Column(pgettext_lazy("member", "member phone"))
    status = tables.Column(_("coupon status"))
    obtained_at = tables.Column(_("credited at"))
    used_at = tables.Column(_("redeemed at"))
    used_store_name = tables.Column(_("redeeming store"))
    order_no = tables.Column(_("order no"))

    class Meta:
        model = UValueCouponFact
        fields = []
        orderable = False
        attrs = {"class": "table report-table"}

    def __init__(self, *args, user, **kwargs):
        exclude = [] if has_perm(user, "reports.view_cost") else ["u_value_yuan"]
        super().__init__(*args, exclude=exclude, **kwargs)
        self.user = user

    def render_min_order_amount(self, value):
        return f"{value.normalize():f}"

    def render_benefit(self, value):
        return benefit_label(value)

    def render_u_value_yuan(self, value):
        return format_yuan(value)

    def render_member_phone(self, value):
        return mask_phone(value, self.user)

    def render_status(self, value):
        return status_label(value)

    def render_obtained_at(self, value):
        return local_time_text(value)

    def render_used_at(self, value):
        return local_time_text(value)
