import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member, MemberTag


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("phone / card / member ID"), method="filter_q")
    name = django_filters.CharFilter(label=pgettext_lazy("person", "name"), lookup_expr="icontains")
    level = django_filters.CharFilter(label=_("level"))
    tag = django_filters.ModelChoiceFilter(
        label=_("tag"), queryset=MemberTag.objects.all(), field_name="tags"
    )
    source = django_filters.ChoiceFilter(
        label=_("registration source"), choices=Member.Source.choices
    )

    class Meta:
        model = Member
        fields = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(phone=value) | Q(card_no=value) | Q(member_no=value))
