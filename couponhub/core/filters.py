import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.models import AuditEntry, SmsMessage

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class AuditEntryFilter(django_filters.FilterSet):
    """The audit log's filters, each one an index can serve at ten million entries: actions and
    object types are lower-case identifiers (matched as such, so the plain and pattern indexes
    apply), and a date is the range of its day's times (not a cast of every row's time)."""

    actor_name = django_filters.CharFilter(label=_("actor"), lookup_expr="icontains")
    action = django_filters.CharFilter(label=_("action"), method="filter_action")
    object_type = django_filters.CharFilter(label=_("object type"), method="filter_object_type")
    object_id = django_filters.CharFilter(label=_("object id"))
    created_from = django_filters.DateFilter(
        label=_("from"), widget=DATE_WIDGET, method="filter_created_from"
    )
    created_to = django_filters.DateFilter(
        label=_("to"), widget=DATE_WIDGET, method="filter_created_to"
    )

    class Meta:
        model = AuditEntry
        fields = []

    def filter_action(self, queryset, name, value):
        return queryset.filter(action__startswith=value.strip().lower())

    def filter_object_type(self, queryset, name, value):
        return queryset.filter(object_type=value.strip().lower())

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of_day(value))

    def filter_created_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of_day(value + datetime.timedelta(days=1)))


def _start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight of `day` in the site's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class SmsMessageFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(label=_("phone"))
    purpose = django_filters.CharFilter(label=_("purpose"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=SmsMessage.Status.choices)

    class Meta:
        model = SmsMessage
        fields = []
