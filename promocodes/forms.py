from django import forms
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from couponhub.core.models import Org
from products.selectors import category_choices
from promocodes.models import (
    Channel,
    Department,
    FinanceLimits,
    Merchant,
    PromoCodeApplication,
)

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ["name", "prefix", "department"]


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["name", "code"]


class BudgetForm(forms.Form):
    department = forms.ModelChoiceField(label=_("department"), queryset=Department.objects.all())
    period_start = forms.DateField(label=_("period start"), widget=DATE_WIDGET)
    period_end = forms.DateField(label=_("period end"), widget=DATE_WIDGET)
    amount = forms.DecimalField(label=_("budget"), max_digits=12, decimal_places=2, min_value=0)


class FinanceLimitsForm(forms.ModelForm):
    class Meta:
        model = FinanceLimits
        fields = ["min_discount_rate", "max_direct_amount", "max_threshold_ratio"]


class ApplicationForm(forms.ModelForm):
    stores = forms.ModelMultipleChoiceField(
        label=_("store restriction"),
        queryset=Org.objects.filter(kind=Org.Kind.STORE, is_active=True),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Leave empty for every store."),
    )

    class Meta:
        model = PromoCodeApplication
        fields = [
            "subject",
            "channel",
            "department",
            "activity_name",
            "generation",
            "manual_code",
            "quantity",
            "discount_type",
            "discount_rate",
            "floor_amount",
            "cap_amount",
            "direct_amount",
            "threshold_amount",
            "merchant",
            "category",
            "stores",
            "max_uses",
            "per_user_limit",
            "user_level",
            "platform",
            "delivery",
            "sale_type",
            "valid_from",
            "valid_to",
            "remarks",
        ]
        widgets = {
            "subject": forms.RadioSelect,
            "generation": forms.RadioSelect,
            "discount_type": forms.RadioSelect,
            "valid_from": DATETIME_WIDGET,
            "valid_to": DATETIME_WIDGET,
            "remarks": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "manual_code": _("One code; letters are upper-cased."),
            "quantity": _("Automatic: channel prefix + 6 random letters and digits each."),
            "discount_rate": _("What the customer pays, e.g. 80 for 20% off."),
            "floor_amount": _("0 = no limit"),
            "cap_amount": _("0 = no limit"),
            "max_uses": _("0 = unlimited"),
            "per_user_limit": _("0 = unlimited"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(status=Channel.Status.ENABLED)
        self.fields["merchant"].queryset = Merchant.objects.all()
        # the chain's food categories (product master), each under its parent
        self.fields["category"].queryset = category_choices()
        self.fields["category"].label_from_instance = lambda c: f"{c.code} {c.label}"
        self.fields["manual_code"].required = False
        for name in ["floor_amount", "cap_amount", "direct_amount", "threshold_amount"]:
            self.fields[name].required = False
        self.fields["quantity"].required = False
        for name in ["subject", "generation", "discount_type"]:
            # A radio list needs no "---------" entry: nothing ticked already means "choose".
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0] != ""]

    def clean(self):
        cleaned = super().clean()
        for name in ["floor_amount", "cap_amount", "direct_amount", "threshold_amount"]:
            if cleaned.get(name) is None:
                cleaned[name] = 0
        if not cleaned.get("quantity"):
            cleaned["quantity"] = 1
        if cleaned.get("generation") == "manual" and not cleaned.get("manual_code"):
            self.add_error("manual_code", _("Enter the promo code."))
        if cleaned.get("discount_type") == "percent" and cleaned.get("discount_rate") is None:
            self.add_error("discount_rate", _("Enter the discount rate."))
        return cleaned

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "stores"}
        return data


def copy_initial(source: PromoCodeApplication) -> dict:
    """The application form's initial values for 复制: every field the applicant fills in, except
    the code itself (codes are never copied)."""
    fields = [name for name in ApplicationForm.Meta.fields if name != "manual_code"]
    initial = model_to_dict(source, fields=fields)
    initial["stores"] = [store.pk for store in initial.get("stores", [])]
    return initial


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("rejection reason"), max_length=200)
