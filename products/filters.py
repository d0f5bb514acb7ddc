import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from products.models import Category, Product

ENABLED_CHOICES = [("1", _("enabled (food master)")), ("0", _("disabled (food master)"))]


class CategoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("category code / name"), method="filter_q")
    enabled = django_filters.ChoiceFilter(
        label=_("status (food master)"), choices=ENABLED_CHOICES, method="filter_enabled"
    )

    class Meta:
        model = Category
        fields = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__istartswith=value) | Q(name__icontains=value))

    def filter_enabled(self, queryset, name, value):
        return queryset.filter(enabled=value == "1")


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("food code / name"), method="filter_q")
    category = django_filters.ModelChoiceFilter(
        label=_("food category"),
        queryset=Category.objects.all(),
        method="filter_category",
    )
    enabled = django_filters.ChoiceFilter(
        label=_("status (food master)"), choices=ENABLED_CHOICES, method="filter_enabled"
    )

    class Meta:
        model = Product
        fields = []

    def __init__(self, *args, **kwargs):
        from products.selectors import category_choices

        super().__init__(*args, **kwargs)
        field = self.filters["category"].field
        field.queryset = category_choices(include_disabled=True)
        field.label_from_instance = lambda c: c.label

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(sku__istartswith=value) | Q(name__icontains=value))

    def filter_category(self, queryset, name, value):
        # a top-level category lists its sub-categories' foods too
        return queryset.filter(Q(category=value) | Q(category__parent=value))

    def filter_enabled(self, queryset, name, value):
        return queryset.filter(enabled=value == "1")
