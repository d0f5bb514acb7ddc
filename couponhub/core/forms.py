from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class SmsTopUpForm(forms.Form):
    amount = forms.DecimalField(
        label=_("amount (yuan)"), max_digits=10, decimal_places=2, min_value=Decimal("0.01")
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)
