"""Reads of the reports: every list is cut to the user's scope first, then filtered."""

from django.db.models import QuerySet

from reports.filters import UValueFactFilter
from reports.models import UValueCouponFact
from reports.scope import scoped_rows


def u_value_filter(user, query) -> UValueFactFilter:
    facts = scoped_rows(user, UValueCouponFact.objects.all()).order_by("-obtained_at", "-coupon_id")
    return UValueFactFilter(query, queryset=facts, user=user)


def u_value_facts(user, query) -> QuerySet[UValueCouponFact]:
    filterset = u_value_filter(user, query)
    if not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs
