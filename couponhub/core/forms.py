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


class CardSheetForm(forms.Form):
    """The options of a card-sheet run (couponhub.core.cardsheets.Layout) and its notes."""

    card_width_mm = forms.DecimalField(
        label=_("card width (mm)"), initial=Decimal("85.5"), min_value=20, max_value=300
    )
    card_height_mm = forms.DecimalField(
        label=_("card height (mm)"), initial=Decimal("54"), min_value=20, max_value=300
    )
    sheet = forms.ChoiceField(
        label=_("sheet"), choices=[("A4", "A4 (210×297)"), ("SRA3", "SRA3 (320×450)")]
    )
    bleed_mm = forms.DecimalField(
        label=_("bleed (mm)"), initial=Decimal("3"), min_value=0, max_value=10
    )
    crop_marks = forms.BooleanField(label=_("crop marks"), initial=True, required=False)
    sides = forms.ChoiceField(
        label=_("sides"),
        choices=[
            ("single", _("single-sided: everything on the front")),
            ("duplex_long", _("double-sided, turned over left to right (long edge)")),
            ("duplex_short", _("double-sided, turned over top to bottom (short edge)")),
        ],
    )
    order = forms.ChoiceField(
        label=_("page order"),
        choices=[
            ("interleaved", _("front, back, front, back…")),
            ("fronts_first", _("all fronts, then all backs")),
        ],
    )
    notes = forms.CharField(
        label=_("notes on the card"),
        max_length=120,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    package = forms.BooleanField(
        label=_("print-shop package (zip with manifest and checksums)"), required=False
    )

    def layout_params(self) -> dict:
        d = self.cleaned_data
        return {
            "card_width_mm": float(d["card_width_mm"]),
            "card_height_mm": float(d["card_height_mm"]),
            "sheet": d["sheet"],
            "bleed_mm": float(d["bleed_mm"]),
            "crop_marks": bool(d["crop_marks"]),
            "sides": d["sides"],
            "order": d["order"],
        }
