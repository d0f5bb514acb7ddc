from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.forms import SpreadsheetFileField
from couponhub.core.models import Org
from coupons.models import CouponRule
from members.models import MemberTag
from messaging.models import MemberMessage


class MessageForm(forms.Form):
    selection = forms.ChoiceField(
        label=_("send to"), choices=MemberMessage.Selection.choices, widget=forms.RadioSelect
    )
    rule = forms.ModelChoiceField(
        label=_("coupon rule"),
        queryset=CouponRule.objects.order_by("code"),
        required=False,
        empty_label=_("choose a coupon rule"),
    )
    level = forms.CharField(label=_("member level"), max_length=20, required=False)
    tag = forms.ModelChoiceField(
        label=_("member tag"),
        queryset=MemberTag.objects.all(),
        required=False,
        empty_label=_("choose a tag"),
    )
    store = forms.ModelChoiceField(
        label=_("registration store or region"),
        queryset=Org.objects.none(),
        required=False,
        empty_label=_("choose a node"),
    )
    file = SpreadsheetFileField(
        label=_("member list (.xlsx / .csv)"),
        required=False,
        help_text=_("First column: phone, card number or member ID."),
    )
    text = forms.CharField(
        label=pgettext_lazy("member message", "text"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=300,
    )
    marketing = forms.BooleanField(
        label=_("marketing message (ends with 回T退订)"), required=False, initial=True
    )

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores

    def clean(self):
        data = super().clean()
        needed = {
            MemberMessage.Selection.RULE: "rule",
            MemberMessage.Selection.LEVEL: "level",
            MemberMessage.Selection.TAG: "tag",
            MemberMessage.Selection.STORE: "store",
            MemberMessage.Selection.UPLOAD: "file",
        }.get(data.get("selection"))
        if needed and not data.get(needed):
            self.add_error(needed, _("Choose whom to send to."))
        return data
