import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.audit import action_choices, object_type_choices
from couponhub.core.models import AuditEntry, SmsMessage
from couponhub.core.sms import purpose_choices

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class AllYesNoSelect(forms.NullBooleanSelect):
    """A yes/no filter whose empty choice reads 全部 (Django's own reads 未知)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", _("All")), ("true", _("Yes")), ("false", _("No"))]


def BooleanFilter(**kwargs) -> django_filters.BooleanFilter:
    """django_filters.BooleanFilter offering 全部 / 是 / 否."""
    kwargs.setdefault("widget", AllYesNoSelect)
    return django_filters.BooleanFilter(**kwargs)


class AuditEntryFilter(django_filters.FilterSet):
    """The audit log's filters, each one an index can serve at ten million entries: actions and
    object types are chosen by their Chinese names and matched exactly on the identifier (so the
    plain index applies), and a date is the range of its day's times (not a cast of every row's
    time)."""

    actor_name = django_filters.CharFilter(label=_("actor"), lookup_expr="icontains")
    action = django_filters.ChoiceFilter(label=_("action"), choices=action_choices)
    object_type = django_filters.ChoiceFilter(label=_("object type"), choices=object_type_choices)
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

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_created_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=start_of_day(value + datetime.timedelta(days=1)))


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight of `day` in the site's time zone: a date filter compares the column with it (an
    index range), not the column's date (a scan)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class SmsMessageFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(label=_("phone"))
    purpose = django_filters.ChoiceFilter(label=_("purpose"), choices=purpose_choices)
    status = django_filters.ChoiceFilter(label=_("status"), choices=SmsMessage.Status.choices)

    class Meta:
        model = SmsMessage
        fields = []
