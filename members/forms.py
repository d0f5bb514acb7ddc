from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.spreadsheets import MAX_UPLOAD_BYTES


class MemberImportForm(forms.Form):
    file = forms.FileField(
        label=_("member file (.xlsx / .csv)"),
        help_text=_(
            "Columns: phone, card number, name, gender, birthday, level, registration store code"
        ),
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        name = f.name.lower()
        if not name.endswith((".xlsx", ".csv")):
            raise forms.ValidationError("会员文件：只支持.xlsx或.csv文件")
        if f.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("会员文件：文件超过20MB上限")
        return f
