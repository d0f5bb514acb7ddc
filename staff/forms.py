from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.forms import SpreadsheetFileField
from couponhub.core.models import Org, RoleAssignment

Role = RoleAssignment.Role


class OrgChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("choose a node"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        depth = obj.path.count("/") - 2
        return f"{'　' * depth}{obj.name}（{obj.code}）"


class UserSearchForm(forms.Form):
    q = forms.CharField(label=_("username, name or phone"), required=False)
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[
            ("", _("all")),
            ("active", _("active")),
            ("inactive", _("deactivated")),
            ("locked", _("locked out")),
        ],
    )
    role = forms.ChoiceField(
        label=_("role"), required=False, choices=[("", _("all")), *Role.choices]
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("username"), max_length=150)
    full_name = forms.CharField(label=_("full name"), max_length=150)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("email"), required=False)
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    org = OrgChoiceField(label=_("organisation"), queryset=Org.objects.none())

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


class UserEditForm(forms.Form):
    full_name = forms.CharField(label=_("full name"), max_length=150)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("email"), required=False)


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    org = OrgChoiceField(label=_("organisation"), queryset=Org.objects.none())

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


class StaffImportForm(forms.Form):
    file = SpreadsheetFileField(
        label=_("staff file (.xlsx / .csv)"),
        help_text=_("Columns: username, full name, phone, role, org code"),
    )


class OrgAddForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[(k, label) for k, label in Org.Kind.choices if k != Org.Kind.GROUP],
    )
    name = forms.CharField(label=_("name"), max_length=100)
    code = forms.CharField(label=_("code"), max_length=30)
    parent = OrgChoiceField(label=_("parent"), queryset=Org.objects.none())
    address = forms.CharField(label=_("address"), max_length=200, required=False)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)

    def __init__(self, *args, parents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents


class OrgEditForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    address = forms.CharField(label=_("address"), max_length=200, required=False)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)


class OrgMoveForm(forms.Form):
    parent = OrgChoiceField(label=_("new parent"), queryset=Org.objects.none())

    def __init__(self, *args, parents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents
