import django_filters
from django.utils.translation import gettext_lazy as _

from couponhub.core.filters import BooleanFilter
from coupons.models import Campaign, Coupon, CouponRule


class CouponRuleFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(label=_("rule code"), lookup_expr="icontains")
    name = django_filters.CharFilter(label=_("coupon name"), lookup_expr="icontains")
    medium = django_filters.ChoiceFilter(
        label=_("coupon medium"), choices=CouponRule.Medium.choices, empty_label=_("All")
    )
    kind = django_filters.ChoiceFilter(
        label=_("coupon kind"), choices=CouponRule.Kind.choices, empty_label=_("All")
    )
    benefit = django_filters.ChoiceFilter(
        label=_("benefit method"), choices=CouponRule.Benefit.choices, empty_label=_("All")
    )
    status = django_filters.ChoiceFilter(
        label=_("data status"), choices=CouponRule.Status.choices, empty_label=_("All")
    )
    is_disabled = BooleanFilter(label=_("disabled"))
    is_invalidated = BooleanFilter(label=_("invalidated"))

    class Meta:
        model = CouponRule
        fields = []


class CampaignFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(label=_("campaign code"), lookup_expr="icontains")
    name = django_filters.CharFilter(label=_("campaign name"), lookup_expr="icontains")
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=Campaign.Channel.choices)

    class Meta:
        model = Campaign
        fields = []


class CouponFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(label=_("coupon code"))
    rule__code = django_filters.CharFilter(label=_("rule code"))
    status = django_filters.ChoiceFilter(label=_("status"), choices=Coupon.Status.choices)
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=Coupon.Channel.choices)
    member__phone = django_filters.CharFilter(label=_("member phone"))
    campaign__code = django_filters.CharFilter(label=_("campaign code"))
    number_from = django_filters.NumberFilter(
        field_name="number", lookup_expr="gte", label=_("serial number from")
    )
    number_to = django_filters.NumberFilter(
        field_name="number", lookup_expr="lte", label=_("serial number to")
    )

    class Meta:
        model = Coupon
        fields = []
