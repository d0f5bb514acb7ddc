from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.spreadsheets import MAX_UPLOAD_BYTES, SpreadsheetError, read_rows


def id_from(value) -> int | None:
    """A row id typed into a URL or a form: ASCII digits only (str.isdigit() also takes "²",
    which int() refuses), at most 18 of them (a bigint); anything else is None."""
    value = str(value or "")
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def ids_from(values) -> list[int]:
    """The ids among `values` (e.g. request.POST.getlist("ids")); the rest are dropped."""
    return [i for i in map(id_from, values) if i is not None]


class SmsTopUpForm(forms.Form):
    amount = forms.DecimalField(
        label=_("amount (yuan)"), max_digits=10, decimal_places=2, min_value=Decimal("0.01")
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class SpreadsheetFileField(forms.FileField):
    """An uploaded spreadsheet, refused when it arrives — before it is stored or a job starts —
    if its type is not one of `extensions`, it is larger than MAX_UPLOAD_BYTES, or it cannot be
    read at all (content not what the name says, binary, a zip bomb, an unknown encoding: what
    `read_rows` refuses before the first row). Messages name the field by its label."""

    def __init__(self, *args, extensions=(".xlsx", ".csv"), **kwargs):
        self.extensions = tuple(extensions)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload is None:
            return upload
        label = self.label or _("file")
        if not upload.name.lower().endswith(self.extensions):
            kinds = "、".join(self.extensions)
            raise forms.ValidationError(f"{label}：只支持{kinds}文件")
        if upload.size > MAX_UPLOAD_BYTES:
            limit = MAX_UPLOAD_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"{label}：文件超过{limit}MB上限")
        try:
            read_rows(upload, filename=upload.name).close()
        except SpreadsheetError as exc:
            raise forms.ValidationError(f"{label}：{exc.message}") from exc
        upload.seek(0)
        return upload
