from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.forms import SpreadsheetFileField


class MemberImportForm(forms.Form):
    file = SpreadsheetFileField(
        label=_("member file (.xlsx / .csv)"),
        help_text=_(
            "Columns: phone, card number, name, gender, birthday, level, registration store code"
        ),
    )
