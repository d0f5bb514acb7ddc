import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from couponhub.core.models import AuditEntry, SmsMessage

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class AuditEntryFilter(django_filters.FilterSet):
    actor_name = django_filters.CharFilter(label=_("actor"), lookup_expr="icontains")
    action = django_filters.CharFilter(label=_("action"), lookup_expr="istartswith")
    object_type = django_filters.CharFilter(label=_("object type"), lookup_expr="iexact")
    object_id = django_filters.CharFilter(label=_("object id"))
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("from"), widget=DATE_WIDGET
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("to"), widget=DATE_WIDGET
    )

    class Meta:
        model = AuditEntry
        fields = []


class SmsMessageFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(label=_("phone"))
    purpose = django_filters.CharFilter(label=_("purpose"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=SmsMessage.Status.choices)

    class Meta:
        model = SmsMessage
        fields = []
