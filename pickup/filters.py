import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.audit import action_choices, object_type_choices
from couponhub.core.filters import AuditEntryFilter, BooleanFilter
from pickup.models import (
    CardType,
    CodeBatch,
    Courier,
    PickupCode,
    PickupOrder,
    PickupStore,
    Product,
    RedPacketClaim,
)

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
        queryset=CardType.objects.all(), label=pgettext_lazy("pickup", "card type")
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
    enabled = BooleanFilter(label=_("enabled"))
    code = django_filters.CharFilter(method="filter_code", label=_("pickup code"))

    class Meta:
        model = PickupCode
        fields = []

    def filter_code(self, queryset, name, value):
        return queryset.filter(code=value.strip().upper())


class ProductFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        lookup_expr="icontains", label=pgettext_lazy("pickup", "product name")
    )

    class Meta:
        model = Product
        fields = ["name", "category", "brand", "is_active"]


class PickupAuditFilter(AuditEntryFilter):
    """The pickup operation log offers only pickup's actions and records."""

    action = django_filters.ChoiceFilter(
        label=_("action"), choices=lambda: action_choices("pickup.")
    )
    object_type = django_filters.ChoiceFilter(
        label=_("object type"), choices=lambda: object_type_choices("pickup")
    )


class OrderFilter(django_filters.FilterSet):
    """Filters of the order lists (线上订单 / 门店订单 / 回收站)."""

    order_no = django_filters.CharFilter(method="filter_exact_upper", label=_("order number"))
    code = django_filters.CharFilter(method="filter_code", label=_("pickup code"))
    consumer_phone = django_filters.CharFilter(label=_("phone"))
    consumer_name = django_filters.CharFilter(
        lookup_expr="icontains", label=pgettext_lazy("person", "name")
    )
    card_type = django_filters.ModelChoiceFilter(
        queryset=CardType.objects.all(), label=pgettext_lazy("pickup", "card type")
    )
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("ordered from"), widget=DATE
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("ordered to"), widget=DATE
    )

    class Meta:
        model = PickupOrder
        fields = []

    def filter_exact_upper(self, queryset, name, value):
        return queryset.filter(order_no=value.strip().upper())

    def filter_code(self, queryset, name, value):
        return queryset.filter(code__code=value.strip().upper())


class OnlineOrderFilter(OrderFilter):
    courier = django_filters.ModelChoiceFilter(queryset=Courier.objects.all(), label=_("courier"))
    tracking_no = django_filters.CharFilter(label=_("tracking number"))
    province = django_filters.CharFilter(lookup_expr="icontains", label=_("province"))


class StoreOrderFilter(OrderFilter):
    status = django_filters.ChoiceFilter(
        choices=[
            (PickupOrder.Status.PENDING, _("awaiting pickup")),
            (PickupOrder.Status.COMPLETED, _("picked up")),
            (PickupOrder.Status.CANCELLED, _("cancelled")),
        ],
        label=_("status"),
    )
    store = django_filters.ModelChoiceFilter(
        queryset=PickupStore.objects.select_related("store"), label=_("pickup store")
    )
    pickup_date = django_filters.DateFilter(label=_("pickup date"), widget=DATE)


class RedPacketCodeFilter(django_filters.FilterSet):
    serial_from = django_filters.NumberFilter(
        field_name="serial", lookup_expr="gte", label=_("serial from")
    )
    serial_to = django_filters.NumberFilter(
        field_name="serial", lookup_expr="lte", label=_("serial to")
    )
    batch = django_filters.ModelChoiceFilter(queryset=CodeBatch.objects.all(), label=_("batch"))
    card_type = django_filters.ModelChoiceFilter(
        queryset=CardType.objects.all(), label=pgettext_lazy("pickup", "card type")
    )
    claimed = BooleanFilter(method="filter_claimed", label=_("claimed"))
    code = django_filters.CharFilter(method="filter_code", label=_("pickup code"))

    class Meta:
        model = PickupCode
        fields = []

    def filter_claimed(self, queryset, name, value):
        return queryset.filter(red_packet_claim__isnull=not value)

    def filter_code(self, queryset, name, value):
        return queryset.filter(code=value.strip().upper())


class RedPacketClaimFilter(django_filters.FilterSet):
    user_phone = django_filters.CharFilter(label=pgettext_lazy("pickup", "user"))
    card_type = django_filters.ModelChoiceFilter(
        queryset=CardType.objects.all(), label=pgettext_lazy("pickup", "card type")
    )
    claimed_from = django_filters.DateFilter(
        field_name="claimed_at", lookup_expr="date__gte", label=_("claimed from"), widget=DATE
    )
    claimed_to = django_filters.DateFilter(
        field_name="claimed_at", lookup_expr="date__lte", label=_("claimed to"), widget=DATE
    )

    class Meta:
        model = RedPacketClaim
        fields = []
