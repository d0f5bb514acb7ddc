import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.filters import DATE_WIDGET
from redemption.models import Redemption, RedemptionLine


class RecordFilter(django_filters.FilterSet):
    """优惠券核销记录: 会员信息, 优惠券名称, 券码, 核销方式, 核销应用, 操作人, 状态, 操作时间."""

    member = django_filters.CharFilter(
        label=_("Member information"),
        method="filter_member",
        widget=forms.TextInput(attrs={"placeholder": _("card number / phone / name")}),
    )
    coupon_name = django_filters.CharFilter(
        label=_("Coupon name"), field_name="coupon__rule__name", lookup_expr="icontains"
    )
    code = django_filters.CharFilter(label=_("Coupon code"), field_name="coupon__code")
    method = django_filters.ChoiceFilter(
        label=_("Redemption method"), field_name="redemption__method", choices=Redemption.Method
    )
    app = django_filters.CharFilter(
        label=_("Redemption app"), field_name="redemption__app", lookup_expr="icontains"
    )
    operator = django_filters.CharFilter(label=_("Operator"), method="filter_operator")
    state = django_filters.ChoiceFilter(
        label=_("Status"),
        method="filter_state",
        choices=[("redeemed", _("Redeemed")), ("returned", _("Returned"))],
    )
    time_from = django_filters.DateFilter(
        label=_("Operation time from"),
        field_name="redemption__created_at",
        lookup_expr="date__gte",
        widget=DATE_WIDGET,
    )
    time_to = django_filters.DateFilter(
        label=pgettext_lazy("range", "to"),
        field_name="redemption__created_at",
        lookup_expr="date__lte",
        widget=DATE_WIDGET,
    )

    class Meta:
        model = RedemptionLine
        fields = []

    def filter_member(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(coupon__member__card_no=value)
            | Q(coupon__member__phone=value)
            | Q(coupon__member__member_no=value)
            | Q(coupon__member__name=value)
        )

    def filter_operator(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(redemption__clerk__username__iexact=value)
            | Q(redemption__clerk__first_name=value)
            | Q(redemption__api_client__name__iexact=value)
        )

    def filter_state(self, queryset, name, value):
        return queryset.filter(returned_at__isnull=value == "redeemed")
