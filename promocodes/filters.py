import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from promocodes.models import Channel, PromoCode, PromoCodeApplication


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("activity / code"), method="filter_q")
    channel = django_filters.ModelChoiceFilter(
        label=pgettext_lazy("promo code", "channel"), queryset=Channel.objects.all()
    )
    subject = django_filters.ChoiceFilter(
        label=_("subject"), choices=PromoCodeApplication._meta.get_field("subject").choices
    )

    class Meta:
        model = PromoCodeApplication
        fields = []

    def filter_q(self, queryset, name, value):
        # the code through its unique index, not an OR over the join of every application with
        # its codes (a million codes: seconds), and no DISTINCT to undo that join
        with_code = PromoCode.objects.filter(code=value.strip().upper()).values("application_id")
        return queryset.filter(Q(activity_name__icontains=value) | Q(pk__in=with_code))


class ChannelFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(label=_("channel name"), lookup_expr="icontains")
    status = django_filters.ChoiceFilter(label=_("status"), choices=Channel.Status.choices)

    class Meta:
        model = Channel
        fields = []
