import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.filters import AuditEntryFilter
from pickup.models import CardType, CodeBatch, PickupCode, Product

DATE = forms.DateInput(attrs={"type": "date"})


class PickupCodeFilter(django_filters.FilterSet):
    """The list filters: serial range, batch, card type, generation date, status, code."""

    serial_from = django_filters.NumberFilter(
        field_name="serial", lookup_expr="gte", label=_("serial from")
    )
    serial_to = django_filters.NumberFilter(
        field_name="serial", lookup_expr="lte", label=_("serial to")
    )
    batch = django_filters.ModelChoiceFilter(queryset=CodeBatch.objects.all(), label=_("batch"))
    card_type = django_filters.ModelChoiceFilter(
        queryset=CardType.objects.all(), label=_("card type")
    )
    date_from = django_filters.DateFilter(
        field_name="batch__created_at",
        lookup_expr="date__gte",
        label=_("generated from"),
        widget=DATE,
    )
    date_to = django_filters.DateFilter(
        field_name="batch__created_at",
        lookup_expr="date__lte",
        label=_("generated to"),
        widget=DATE,
    )
    status = django_filters.ChoiceFilter(choices=PickupCode.Status.choices, label=_("status"))
    enabled = django_filters.BooleanFilter(label=_("enabled"))
    code = django_filters.CharFilter(method="filter_code", label=_("pickup code"))

    class Meta:
        model = PickupCode
        fields = []

    def filter_code(self, queryset, name, value):
        return queryset.filter(code=value.strip().upper())


class ProductFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("product name"))

    class Meta:
        model = Product
        fields = ["name", "category", "brand", "is_active"]


class PickupAuditFilter(AuditEntryFilter):
    pass
