import datetime
import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.filters import DATE_WIDGET, start_of_day
from couponhub.core.models import Org
from couponhub.core.permissions import scope_q
from redemption.models import OutsideCoupon, OutsideShop, Redemption, RedemptionLine


def member_q(value: str, field: str) -> Q:
    """会员信息 as a clerk types it: a card number, a member ID or a whole phone exactly, the last
    four digits of a phone, or part of a name. Digits are a number, never part of a name: a
    name's substring can use no index, and among a million members that is a scan."""
    value = value.strip()
    if not value:
        return Q()
    q = (
        Q(**{f"{field}__card_no": value})
        | Q(**{f"{field}__phone": value})
        | Q(**{f"{field}__member_no": value})
    )
    if not value.isdigit():
        q |= Q(**{f"{field}__name__icontains": value})
    elif len(value) == 4:
        q |= Q(**{f"{field}__phone__endswith": value})
    return q


def _ids_under(org: Org) -> list[int]:
    """The node and every node below it, by id (see permissions.scope_ids_q)."""
    return list(Org.objects.filter(path__startswith=org.path).values_list("pk", flat=True))


class RecordFilter(django_filters.FilterSet):
    """优惠券核销记录: 全业态 (or one org node of the user's scope), 会员信息, 优惠券名称, 券码,
    核销方式, 核销应用, 操作人, 状态, 操作时间."""

    org = django_filters.ModelChoiceFilter(
        label=_("organisation"),
        queryset=Org.objects.none(),
        empty_label=_("All business lines"),
        method="filter_org",
    )

    member = django_filters.CharFilter(
        label=_("Member information"),
        method="filter_member",
        widget=forms.TextInput(attrs={"placeholder": _("card number / phone / name")}),
    )
    coupon_name = django_filters.CharFilter(
        label=_("Coupon name"), field_name="coupon__rule__name", lookup_expr="icontains"
    )
    code = django_filters.CharFilter(label=_("Coupon code"), method="filter_code")
    method = django_filters.ChoiceFilter(
        label=_("Redemption method"),
        field_name="redemption__method",
        choices=Redemption.Method,
        empty_label=_("All"),
    )
    app = django_filters.CharFilter(
        label=_("Redemption app"), field_name="redemption__app", lookup_expr="icontains"
    )
    operator = django_filters.CharFilter(label=_("Operator"), method="filter_operator")
    state = django_filters.ChoiceFilter(
        label=_("Status"),
        method="filter_state",
        choices=[("redeemed", _("Redeemed")), ("returned", _("Returned"))],
        empty_label=_("All"),
    )
    time_from = django_filters.DateFilter(
        label=_("Operation time from"), method="filter_time_from", widget=DATE_WIDGET
    )
    time_to = django_filters.DateFilter(
        label=pgettext_lazy("range", "to"), method="filter_time_to", widget=DATE_WIDGET
    )

    class Meta:
        model = RedemptionLine
        fields = []

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        if user is not None:
            orgs = (
                Org.objects.filter(scope_q(user, "redemption.view_records", ""), is_active=True)
                .select_related("parent")
                .order_by("path")
            )
            self.filters["org"].queryset = orgs
            self.form.fields["org"].queryset = orgs
            self.form.fields["org"].label_from_instance = lambda org: org.label

    def filter_org(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(redemption__store_id__in=_ids_under(value))

    def filter_member(self, queryset, name, value):
        return queryset.filter(member_q(value, "coupon__member"))

    def filter_code(self, queryset, name, value):
        # codes are kept as issued (capitals): the code or its capitals, each through the index
        value = value.strip()
        return queryset.filter(Q(coupon__code=value) | Q(coupon__code=value.upper()))

    def filter_time_from(self, queryset, name, value):
        return queryset.filter(redemption__created_at__gte=start_of_day(value))

    def filter_time_to(self, queryset, name, value):
        return queryset.filter(
            redemption__created_at__lt=start_of_day(value + datetime.timedelta(days=1))
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


class OutsideArchiveFilter(django_filters.FilterSet):
    """票券档案: every outside coupon, by 消费号 (its J may be left off, any case), status, shop,
    outside product, local coupon, redeeming store, phone and the sale and redemption dates."""

    code = django_filters.CharFilter(label=_("consumption number"), method="filter_code")
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        field_name="status",
        choices=OutsideCoupon.Status.choices,
        empty_label=_("All"),
    )
    shop = django_filters.ModelChoiceFilter(
        label=_("outside shop"), queryset=OutsideShop.objects.order_by("name"), empty_label=_("All")
    )
    product = django_filters.CharFilter(
        label=_("outside product"), field_name="mapping__product_name", lookup_expr="icontains"
    )
    activity = django_filters.CharFilter(
        label=_("local coupon"), field_name="activity__name", lookup_expr="icontains"
    )
    store = django_filters.CharFilter(label=_("redeeming store"), method="filter_store")
    phone = django_filters.CharFilter(label=_("phone"), method="filter_phone")
    sold_from = django_filters.DateFilter(
        label=_("sold from"), field_name="sold_at", lookup_expr="date__gte", widget=DATE_WIDGET
    )
    sold_to = django_filters.DateFilter(
        label=_("to"), field_name="sold_at", lookup_expr="date__lte", widget=DATE_WIDGET
    )
    used_from = django_filters.DateFilter(
        label=_("used from"), field_name="used_at", lookup_expr="date__gte", widget=DATE_WIDGET
    )
    used_to = django_filters.DateFilter(
        label=_("to"), field_name="used_at", lookup_expr="date__lte", widget=DATE_WIDGET
    )

    class Meta:
        model = OutsideCoupon
        fields = []

    def filter_code(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(code__icontains=value)

    def filter_store(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(used_store__code=value) | Q(used_store__name__icontains=value))

    def filter_phone(self, queryset, name, value):
        value = value.strip()
        if len(value) == 4 and value.isdigit():
            return queryset.filter(phone__endswith=value)
        return queryset.filter(phone=value)


OUTSIDE_APP = "票券核销"  # the app an outside coupon is redeemed in at the counter (the till page)


class OutsideRecordFilter(django_filters.FilterSet):
    """The records page's filters (the same query parameters as `RecordFilter`) applied to
    outside-coupon redemptions, which appear as rows of the page next to ours."""

    org = django_filters.ModelChoiceFilter(
        queryset=Org.objects.all(), method="filter_org", field_name="used_store"
    )
    member = django_filters.CharFilter(method="filter_member")
    coupon_name = django_filters.CharFilter(field_name="activity__name", lookup_expr="icontains")
    code = django_filters.CharFilter(method="filter_code")
    method = django_filters.CharFilter(method="filter_method")
    app = django_filters.CharFilter(method="filter_app")
    operator = django_filters.CharFilter(field_name="used_by", lookup_expr="iexact")
    state = django_filters.CharFilter(method="filter_state")
    time_from = django_filters.DateFilter(method="filter_time_from")
    time_to = django_filters.DateFilter(method="filter_time_to")

    class Meta:
        model = OutsideCoupon
        fields = []

    def filter_org(self, queryset, name, value):
        return queryset.filter(used_store_id__in=_ids_under(value)) if value else queryset

    def filter_member(self, queryset, name, value):
        q = member_q(value, "member")
        value = value.strip()
        if value.isdigit() and len(value) in (4, 11):
            q |= Q(phone__endswith=value)
        return queryset.filter(q)

    def filter_code(self, queryset, name, value):
        value = value.strip()
        q = Q(code__iexact=value)
        if value[:1].isdigit():  # a 消费号 typed without its letter prefix
            q |= Q(code__iregex=rf"^[A-Z]+{re.escape(value)}$")
        return queryset.filter(q)

    def filter_time_from(self, queryset, name, value):
        return queryset.filter(used_at__gte=start_of_day(value))

    def filter_time_to(self, queryset, name, value):
        return queryset.filter(used_at__lt=start_of_day(value + datetime.timedelta(days=1)))

    def filter_method(self, queryset, name, value):
        if value == Redemption.Method.API:
            return queryset.filter(used_by__startswith="api:")
        if value == Redemption.Method.SCAN:
            return queryset.exclude(used_by__startswith="api:")
        return queryset.none()  # no SMS check for an outside coupon

    def filter_app(self, queryset, name, value):
        value = value.strip()
        if value in OUTSIDE_APP:
            return queryset
        return queryset.filter(used_by__icontains=value)

    def filter_state(self, queryset, name, value):
        if value == "redeemed":
            return queryset.filter(status=OutsideCoupon.Status.USED)
        if value == "returned":
            return queryset.exclude(status=OutsideCoupon.Status.USED).filter(
                returned_at__isnull=False
            )
        return queryset
