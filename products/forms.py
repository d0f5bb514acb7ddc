from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from couponhub.core.forms import SpreadsheetFileField
from products.models import Category, Product
from products.selectors import category_choices


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["code", "name", "parent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the parent is a top-level category (two levels at most), not this one
        parents = Category.objects.filter(parent__isnull=True, enabled=True).order_by("code")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["parent"].empty_label = _("(top level)")
        self.fields["parent"].label_from_instance = lambda c: f"{c.code} {c.name}"

    def validate_unique(self):
        """The service refuses a taken code, naming it (类别编码：KF已存在)."""


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "category", "unit", "price"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # a disabled category stays shown on the foods that have it
        choices = category_choices(include_disabled=True).filter(
            Q(enabled=True) | Q(pk=self.instance.category_id)
        )
        self.fields["category"].queryset = choices
        self.fields["category"].empty_label = _("(no category)")
        self.fields["category"].label_from_instance = lambda c: f"{c.code} {c.label}"

    def validate_unique(self):
        """The service refuses a taken code, naming it (食品编码：D001已存在)."""


class ProductImportForm(forms.Form):
    file = SpreadsheetFileField(
        label=_("food file (.xlsx / .csv)"),
        help_text=_("Columns: food code, food name, food category code, unit, sale price"),
    )


# --- pickers other apps' forms use ----------------------------------------------------------------


class SearchSelect(forms.Select):
    """A select that carries only the chosen food; the page's script (app.js, data-search-url)
    asks the server for the others as the user types, so thousands of foods never load at once."""

    def __init__(self, attrs=None, choices=()):
        super().__init__({"class": "master-picker", **(attrs or {})}, choices)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-search-url"] = reverse("products:search")
        return context

    def optgroups(self, name, value, attrs=None):
        chosen = [v for v in value if v not in (None, "")]
        iterator = self.choices
        options = [("", str(iterator.field.empty_label or ""))]
        if chosen:
            found = iterator.queryset.filter(pk__in=[v for v in chosen if str(v).isdigit()])
            options += [(str(p.pk), iterator.field.label_from_instance(p)) for p in found]
        groups = []
        for index, (option_value, label) in enumerate(options):
            selected = option_value in [str(v) for v in chosen] or (not chosen and index == 0)
            groups.append(
                (
                    None,
                    [self.create_option(name, option_value, label, selected, index, attrs=attrs)],
                    index,
                )
            )
        return groups


class ProductChoiceField(forms.ModelChoiceField):
    """抵换食品 / an outside activity's food: an enabled food of the master, searched by code or
    name (a food disabled later stays on what already names it)."""

    widget = SearchSelect

    def __init__(self, **kwargs):
        kwargs.setdefault("empty_label", _("(search a food by code or name)"))
        super().__init__(queryset=Product.objects.filter(enabled=True), **kwargs)

    def keep(self, pk) -> None:
        """The food already chosen stays valid even when it was disabled since."""
        if pk:
            self.queryset = Product.objects.filter(Q(enabled=True) | Q(pk=pk))

    def label_from_instance(self, obj):
        return f"{obj.sku} {obj.name}"


class CategoryMultipleChoiceField(forms.ModelMultipleChoiceField):
    """不适用食品类别: categories of the master, each shown under its parent (饮品 / 咖啡)."""

    widget = forms.SelectMultiple(attrs={"class": "master-picker"})

    def __init__(self, **kwargs):
        super().__init__(queryset=category_choices(), **kwargs)

    def keep(self, pks) -> None:
        """The categories already chosen stay valid even when they were disabled since."""
        if pks:
            self.queryset = category_choices(include_disabled=True).filter(
                Q(enabled=True) | Q(pk__in=pks)
            )

    def label_from_instance(self, obj):
        return f"{obj.code} {obj.label}"
