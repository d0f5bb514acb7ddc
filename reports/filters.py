import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coupons.models import Coupon, CouponRule
from reports.facts import start_of_day
from reports.models import UValueCouponFact
from reports.scope import scope_orgs

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})
STATUS_CHOICES = [
    (s.value, s.label)
    for s in (
        Coupon.Status.UNUSED,
        Coupon.Status.USED,
        Coupon.Status.EXPIRED,
        Coupon.Status.VOIDED,
        Coupon.Status.FROZEN,
    )
]


def _from(field):
    def apply(queryset, name, value):
        return queryset.filter(**{f"{field}__gte": start_of_day(value)}) if value else queryset

    return apply


def _to(field):
    def apply(queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{field}__lt": start_of_day(value + datetime.timedelta(days=1))})

    return apply


class OrgScopeFilterSet(django_filters.FilterSet):
    """A FilterSet whose first field is the org node (全业态 = every org in the user's scope)."""

    org = django_filters.ModelChoiceFilter(
        label=_("organisation"),
        queryset=None,
        empty_label=_("All business lines"),
        method="filter_org",
    )

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["org"].queryset = scope_orgs(user)
        self.form.fields["org"].queryset = scope_orgs(user)
        self.form.fields["org"].label_from_instance = lambda org: org.label

    def filter_org(self, queryset, name, value):
        if not value:
            return queryset
        if value.is_store:  # a leaf: equality keeps the (org_path, -obtained_at) index ordered
            return queryset.filter(org_path=value.path)
        return queryset.filter(org_path__startswith=value.path)


class UValueFactFilter(OrgScopeFilterSet):
    obtained_from = django_filters.DateFilter(
        label=_("credited from"), widget=DATE_WIDGET, method=_from("obtained_at")
    )
    obtained_to = django_filters.DateFilter(
        label=_("credited to"), widget=DATE_WIDGET, method=_to("obtained_at")
    )
    used_from = django_filters.DateFilter(
        label=_("redeemed from"), widget=DATE_WIDGET, method=_from("used_at")
    )
    used_to = django_filters.DateFilter(
        label=_("redeemed to"), widget=DATE_WIDGET, method=_to("used_at")
    )
    code = django_filters.CharFilter(label=_("coupon code"), method="filter_code")
    name = django_filters.CharFilter(label=_("coupon name"), method="filter_name")
    status = django_filters.ChoiceFilter(
        label=_("coupon status"), choices=STATUS_CHOICES, empty_label=_("All statuses")
    )
    member = django_filters.CharFilter(label=_("member (card or phone)"), method="filter_member")

    class Meta:
        model = UValueCouponFact
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        placeholders = {
            "code": pgettext_lazy("placeholder", "Coupon code"),
            "name": pgettext_lazy("placeholder", "Coupon name"),
            "member": _("Member card number / phone"),
        }
        for name, text in placeholders.items():
            self.form.fields[name].widget.attrs["placeholder"] = text

    def filter_code(self, queryset, name, value):
        return queryset.filter(coupon_code=value.strip()) if value.strip() else queryset

    def filter_name(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # a name matches a handful of rules: filter on their ids (indexed), not a LIKE over facts
        rule_ids = CouponRule.objects.filter(name__icontains=value).values_list("pk", flat=True)
        return queryset.filter(rule_id__in=list(rule_ids))

    def filter_member(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(member_card=value) | Q(member_phone=value)) if value else queryset
