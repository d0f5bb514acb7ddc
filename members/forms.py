from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.forms import SpreadsheetFileField
from members.models import MemberTag


class MemberImportForm(forms.Form):
    file = SpreadsheetFileField(
        label=_("member file (.xlsx / .csv)"),
        help_text=_(
            "Columns: phone, card number, name, gender, birthday, level, registration store code"
        ),
    )


class TagForm(forms.Form):
    name = forms.CharField(label=_("tag name"), max_length=30)
    note = forms.CharField(label=_("note"), max_length=200, required=False)


TAG_OPERATIONS = [("add", _("put the tag on them")), ("remove", _("take the tag off them"))]


class TagUploadForm(forms.Form):
    file = SpreadsheetFileField(
        label=_("member list (.xlsx / .csv)"),
        help_text=_("First column: phone, card number or member ID."),
    )
    op = forms.ChoiceField(label=_("operation"), choices=TAG_OPERATIONS, initial="add")


class TagApplyForm(forms.Form):
    """The member list's selection: ticked members, a tag, put on or taken off."""

    tag = forms.ModelChoiceField(
        label=_("tag"), queryset=MemberTag.objects.all(), empty_label=_("choose a tag")
    )
    op = forms.ChoiceField(choices=TAG_OPERATIONS)
    selection = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # any ticked id is accepted here; the service sees only members that exist
        self.fields["selection"].valid_value = lambda value: str(value).isdigit()


class MemberTagsForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(
        label=_("tags"), queryset=MemberTag.objects.all(), required=False
    )
