"""Forms of the member detail page (redemption.member_views)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member

LEDGERS = [
    ("u_value", _("U-value")),
    ("points", _("points")),
    ("stored_value", _("stored value (yuan)")),
]
PAYMENT_METHODS = [
    ("现金", _("cash")),
    ("微信支付", _("WeChat Pay")),
    ("支付宝", _("Alipay")),
    ("银行卡", _("bank card")),
]


class RuleChoiceField(forms.ModelChoiceField):
    """A coupon rule, labelled by the view (price, U-value price and balance after)."""

    def __init__(self, *args, labeller=None, **kwargs):
        kwargs.setdefault("empty_label", _("choose a coupon"))
        super().__init__(*args, **kwargs)
        self.labeller = labeller

    def label_from_instance(self, obj):
        return self.labeller(obj) if self.labeller else obj.name


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("name of the member"), max_length=50, required=False)
    gender = forms.ChoiceField(label=_("gender"), choices=Member.Gender.choices)
    birthday = forms.DateField(
        label=_("birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sms_opt_out = forms.BooleanField(label=_("no marketing SMS (回T退订)"), required=False)


class PhoneCodeForm(forms.Form):
    new_phone = forms.CharField(label=_("new phone"), max_length=11, min_length=11)


class PhoneChangeForm(forms.Form):
    new_phone = forms.CharField(label=_("new phone"), max_length=11, min_length=11)
    code = forms.CharField(label=_("SMS code sent to the new phone"), max_length=6, min_length=6)


class AdjustForm(forms.Form):
    ledger = forms.ChoiceField(label=_("ledger"), choices=LEDGERS)
    delta = forms.DecimalField(label=_("change (+ add, − deduct)"), max_digits=12, decimal_places=2)
    reason = forms.CharField(label=_("reason"), max_length=80)

    def clean(self):
        data = super().clean()
        delta = data.get("delta")
        if delta is not None and data.get("ledger") != "stored_value" and delta != int(delta):
            self.add_error("delta", _("U-value and points change by whole numbers."))
        return data


class IssueForm(forms.Form):
    rule = RuleChoiceField(label=_("coupon"), queryset=None)

    def __init__(self, *args, rules, labeller=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules
        self.fields["rule"].labeller = labeller


class PurchaseForm(IssueForm):
    payment_method = forms.ChoiceField(label=_("payment method"), choices=PAYMENT_METHODS)


class TransferForm(forms.Form):
    coupon = forms.IntegerField(widget=forms.HiddenInput)
    to = forms.CharField(label=_("to member (phone / card number / member ID)"), max_length=30)
