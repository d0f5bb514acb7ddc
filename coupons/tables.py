import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from couponhub.core.permissions import mask_phone
from couponhub.core.tables import Table, TemplateColumn
from coupons.models import Campaign, Coupon, CouponRule


class CouponRuleTable(Table):
    code = tables.LinkColumn("coupons:rule_detail", args=[tables.A("pk")])
    value = tables.Column(_("value"), empty_values=(), orderable=False)
    flags = tables.Column(_("flags"), empty_values=(), orderable=False)

    class Meta:
        model = CouponRule
        fields = [
            "code",
            "name",
            "medium",
            "kind",
            "benefit",
            "value",
            "total",
            "issued_count",
            "status",
            "flags",
            "created_by",
            "created_at",
        ]

    def render_value(self, record):
        return record.value_label() or "—"

    def render_flags(self, record):
        flags = []
        if record.is_disabled:
            flags.append(str(_("disabled")))
        if record.is_invalidated:
            flags.append(str(_("invalidated")))
        return "、".join(flags) or "—"


class CampaignTable(Table):
    code = tables.LinkColumn("coupons:campaign_edit", args=[tables.A("pk")])
    rule = tables.Column(_("rule code"), accessor="rule__code")

    class Meta:
        model = Campaign
        fields = [
            "code",
            "name",
            "rule",
            "channel",
            "u_value_price",
            "starts_on",
            "ends_on",
            "is_active",
        ]


class CouponTable(Table):
    rule = tables.Column(_("coupon name"), accessor="rule__name")
    member = tables.Column(_("member"), empty_values=(), orderable=False)
    store = tables.Column(_("receiving store"), accessor="store__name")
    effective_status = tables.Column(_("status"), empty_values=(), orderable=False)
    actions = TemplateColumn(
        template_name="coupons/_coupon_actions.html", verbose_name=_("actions"), orderable=False
    )

    class Meta:
        model = Coupon
        fields = [
            "code",
            "rule",
            "effective_status",
            "channel",
            "member",
            "customer_name",
            "store",
            "recharge_no",
            "obtained_at",
            "valid_to",
            "actions",
        ]

    def render_member(self, record):
        if not record.member_id:
            return "—"
        return f"{record.member.name} {mask_phone(record.member.phone, self.request.user)}"

    def render_effective_status(self, record):
        return record.get_effective_status_display()


class RuleReviewTable(CouponRuleTable):
    """The finance review queue: the rule list with a selection box a row."""

    selection = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": ""}})
    reject_reason = tables.Column(_("rejection reason"))

    class Meta(CouponRuleTable.Meta):
        fields = ["selection", *CouponRuleTable.Meta.fields, "reject_reason"]
        sequence = ["selection", "..."]


class ActivationRuleTable(Table):
    """Physical rules sold at the counter: how many coupons the sales activated so far."""

    activated_count = tables.Column(_("activated"), orderable=False)
    not_activated_count = tables.Column(_("not activated"), orderable=False)

    class Meta:
        model = CouponRule
        fields = ["code", "name", "generated_count", "activated_count"]
        sequence = [*fields, "not_activated_count"]
        orderable = False
