from django import forms
from django.db.models import Q
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


class ProductImportForm(forms.Form):
    file = SpreadsheetFileField(
        label=_("food file (.xlsx / .csv)"),
        help_text=_("Columns: food code, food name, food category code, unit, sale price"),
    )
