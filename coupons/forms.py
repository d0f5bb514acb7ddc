from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.forms import CardSheetForm, SpreadsheetFileField
from couponhub.core.models import Org
from couponhub.core.permissions import scope_q
from coupons.models import Campaign, CouponRule
from coupons.rules import draft_errors, rule_errors
from members.models import Member
from products.forms import CategoryMultipleChoiceField, ProductChoiceField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

INFO_FIELDS = [
    "name",
    "creating_org",
    "usable_orgs",
    "medium",
    "kind",
    "claim_deadline",
    "sale_price",
    "transferable",
    "u_value_price",
    "description",
]
BENEFIT_FIELDS = [
    "benefit",
    "face_value",
    "discount_rate",
    "exchange_product",
    "excluded_categories",
    "effective_date",
    "min_order_amount",
    "per_member_limit",
    "validity_type",
    "valid_until",
    "valid_days",
]
CODE_FIELDS = [
    "code_mode",
    "code_prefix",
    "code_suffix",
    "numeric_length",
    "total",
    "start_value",
    "recharge_number_length",
    "needs_activation",
]


class CouponRuleForm(forms.ModelForm):
    exchange_product = ProductChoiceField(label=_("exchange product"), required=False)
    excluded_categories = CategoryMultipleChoiceField(
        label=_("excluded product categories"), required=False
    )

    class Meta:
        model = CouponRule
        fields = INFO_FIELDS + BENEFIT_FIELDS + CODE_FIELDS
        widgets = {
            "claim_deadline": DATE,
            "effective_date": DATE,
            "valid_until": DATE,
            "usable_orgs": forms.SelectMultiple(attrs={"size": 8}),
        }

    def __init__(self, *args, user, draft: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # 暂存 checks the name only (draft_errors); 保存 checks every field (rule_errors)
        self.draft = draft
        if draft:
            self.instance.status = CouponRule.Status.DRAFT
            for name in self.DEFAULTED:
                self.fields[name].required = False
        orgs = Org.objects.filter(scope_q(user, "coupons.edit_rules", ""), is_active=True)
        self.fields["creating_org"].queryset = orgs
        # usable orgs: any org of the tree may be chosen (the rule may be used chain-wide)
        self.fields["usable_orgs"].queryset = Org.objects.filter(is_active=True)
        self.fields["usable_orgs"].label_from_instance = lambda o: (
            f"{o.code} {o.name}" if o.is_store else f"【{o.get_kind_display()}】{o.name}"
        )
        if self.instance.pk:
            self.fields["exchange_product"].keep(self.instance.exchange_product_id)
            self.fields["excluded_categories"].keep(
                list(self.instance.excluded_categories.values_list("pk", flat=True))
            )
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("data-field", name)
        if not self.instance.pk:
            first = orgs.order_by("path").first()
            self.initial.setdefault("creating_org", first.pk if first else None)
            root = Org.objects.filter(parent__isnull=True).first()
            self.initial.setdefault("usable_orgs", [root.pk] if root else [])
        # the default model validation of empty fields is replaced by rule_errors (Chinese)
        for name in (
            "effective_date",
            "total",
            "numeric_length",
            "start_value",
            "min_order_amount",
            "name",
            "usable_orgs",
        ):
            self.fields[name].required = False

    DEFAULTED = ("medium", "kind", "benefit", "validity_type", "code_mode", "per_member_limit")

    def clean(self):
        data = super().clean()
        if self.draft:  # a draft left these empty: the rule's defaults, as the page preselects
            for name in self.DEFAULTED:
                if data.get(name) in (None, ""):
                    data[name] = CouponRule._meta.get_field(name).get_default()
                    self.errors.pop(name, None)
        return data

    def validate_unique(self):
        """The seed's field rules first (Chinese, naming the field); then the constraints."""
        usable = self.cleaned_data.get("usable_orgs") or []
        excluded = len(self.cleaned_data.get("excluded_categories") or [])
        if self.draft:
            errors = draft_errors(self.instance, excluded_category_count=excluded)
        else:
            errors = rule_errors(
                self.instance, usable_org_count=len(usable), excluded_category_count=excluded
            )
        for field, message in errors.items():
            if field in self.errors:
                continue
            self.add_error(field if field in self.fields else None, message)
        if not errors:
            super().validate_unique()

    def clean_total(self):
        return self.cleaned_data.get("total") or 0

    def clean_numeric_length(self):
        return self.cleaned_data.get("numeric_length") or 0

    def clean_start_value(self):
        value = self.cleaned_data.get("start_value")
        return 0 if value is None else value

    def clean_min_order_amount(self):
        value = self.cleaned_data.get("min_order_amount")
        return 0 if value is None else value

    def clean_name(self):
        return (self.cleaned_data.get("name") or "").strip()

    def sections(self):
        return [
            (_("Coupon info"), [self[f] for f in INFO_FIELDS]),
            (_("Benefit"), [self[f] for f in BENEFIT_FIELDS]),
            (_("Code rule"), [self[f] for f in CODE_FIELDS]),
        ]


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("rejection reason"), max_length=200)


class CampaignForm(forms.ModelForm):
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
        widgets = {"starts_on": DATE, "ends_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = CouponRule.objects.filter(
            status=CouponRule.Status.APPROVED
        ).order_by("-id")

    def clean(self):
        data = super().clean()
        rule = data.get("rule")
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "结束日期：不得早于开始日期")
        if rule and rule.kind == CouponRule.Kind.U_VALUE_EXCHANGE:
            if not (data.get("u_value_price") or rule.u_value_price):
                self.add_error("u_value_price", "U享值价格：积分兑换券活动必须有U享值价格")
        elif data.get("u_value_price"):
            self.add_error("u_value_price", "U享值价格：仅积分兑换券的活动可设置")
        return data


class CodeRangeForm(forms.Form):
    code_from = forms.CharField(label=_("from code"), max_length=40)
    code_to = forms.CharField(label=_("to code"), max_length=40)


class PrintCouponsForm(CodeRangeForm, CardSheetForm):
    field_order = [*CodeRangeForm.base_fields, *CardSheetForm.base_fields]


class ReceiveForm(CodeRangeForm):
    store = forms.ModelChoiceField(label=_("receiving store"), queryset=Org.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = Org.objects.filter(
            scope_q(user, "coupons.manage_physical", ""), kind=Org.Kind.STORE, is_active=True
        )


class DistributeForm(CodeRangeForm):
    customer_name = forms.CharField(label=_("customer"), max_length=100, required=False)
    member = forms.CharField(
        label=_("member phone / card number (optional)"), max_length=30, required=False
    )

    def clean_member(self):
        value = (self.cleaned_data.get("member") or "").strip()
        if not value:
            return None
        member = (
            Member.objects.filter(phone=value).first()
            or Member.objects.filter(card_no=value).first()
        )
        if member is None:
            raise forms.ValidationError("会员：未找到该手机号或卡号的会员")
        return member

    def clean(self):
        data = super().clean()
        if not data.get("customer_name") and not data.get("member"):
            self.add_error("customer_name", "客户：请填写客户名称或会员")
        return data


class GiftForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label=_("campaign"), queryset=Campaign.objects.none(), required=False
    )
    file = SpreadsheetFileField(
        label=_("member list (.xlsx / .csv, first column phone, card number or member ID)")
    )

    def __init__(self, *args, rule, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(rule=rule)


class ActivationForm(forms.Form):
    """A sale (or its reversal) of physical coupons: a rule's code range, or their codes."""

    action = forms.ChoiceField(
        label=_("action"),
        choices=[
            ("activate", _("activate (the coupons were sold)")),
            ("deactivate", _("deactivate (the sale was reversed)")),
        ],
    )
    rule = forms.ModelChoiceField(
        label=_("coupon rule"),
        queryset=CouponRule.objects.filter(
            medium=CouponRule.Medium.PHYSICAL, needs_activation=True
        ),
        required=False,
    )
    code_from = forms.CharField(label=_("from code"), max_length=40, required=False)
    code_to = forms.CharField(label=_("to code"), max_length=40, required=False)
    codes = forms.CharField(
        label=_("or coupon codes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One coupon code a line, as scanned."),
    )
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)

    def clean_codes(self):
        return [c for c in self.cleaned_data["codes"].split() if c][:1000]
