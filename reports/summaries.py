"""The summaries HQ and finance download (SPEC.md §9): each one is a read that returns rows,
totals and charts for a page, and registers an export of the same rows.

Every summary reads data up to the end of yesterday, like the detail report: redemptions come
from the nightly `RedemptionDailyFact`; promo-code uses and SMS messages are small append-only
tables summed directly, cut at today 00:00.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from couponhub.core.models import SmsMessage
from couponhub.core.money import to_money
from couponhub.core.permissions import has_perm
from promocodes.models import DepartmentBudget, PromoCodeUse
from reports import charts
from reports.exports import ExportSpec, export_builder
from reports.facts import end_of_yesterday, start_of_day
from reports.models import RedemptionDailyFact
from reports.scope import path_q, require_reports, scope_orgs, sees_everything

DATE = forms.DateInput(attrs={"type": "date"})
MAX_DAYS = 366


class SummaryForm(forms.Form):
    org = forms.ModelChoiceField(
        label=gettext_lazy("organisation"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All business lines"),
    )
    day_from = forms.DateField(label=pgettext_lazy("report", "from"), required=False, widget=DATE)
    day_to = forms.DateField(label=pgettext_lazy("report", "to"), required=False, widget=DATE)

    def __init__(self, data, *, user, **kwargs):
        # the default period (the 30 days up to yesterday) shows in the date fields
        data = data.copy() if data is not None else {}
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        if not data.get("day_to"):
            data["day_to"] = yesterday.isoformat()
        if not data.get("day_from"):
            data["day_from"] = (yesterday - datetime.timedelta(days=29)).isoformat()
        super().__init__(data, **kwargs)
        self.fields["org"].queryset = scope_orgs(user)
        self.fields["org"].label_from_instance = lambda org: org.label

    def clean(self):
        data = super().clean()
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        day_to = min(data.get("day_to") or yesterday, yesterday)
        day_from = data.get("day_from") or day_to - datetime.timedelta(days=29)
        if day_from > day_to:
            raise forms.ValidationError("开始日期不能晚于结束日期")
        if (day_to - day_from).days >= MAX_DAYS:
            raise forms.ValidationError(f"日期范围不能超过{MAX_DAYS}天")
        data["day_from"], data["day_to"] = day_from, day_to
        return data


def _period(form) -> tuple[datetime.date, datetime.date]:
    if form.is_valid():
        return form.cleaned_data["day_from"], form.cleaned_data["day_to"]
    day_to = timezone.localdate() - datetime.timedelta(days=1)
    return day_to - datetime.timedelta(days=29), day_to


def _org(form):
    return form.cleaned_data.get("org") if form.is_valid() else None


# --- redemptions: store × day × rule --------------------------------------------------------------


def redemption_rows(user, query):
    require_reports(user)
    form = SummaryForm(query, user=user)
    day_from, day_to = _period(form)
    facts = RedemptionDailyFact.objects.filter(path_q(user), day__gte=day_from, day__lte=day_to)
    if org := _org(form):
        facts = facts.filter(org_path__startswith=org.path)
    return form, facts.order_by("-day", "store_name", "rule_code"), (day_from, day_to)


def redemption_summary(user, query) -> dict:
    form, facts, (day_from, day_to) = redemption_rows(user, query)
    per_day = dict(facts.values_list("day").annotate(n=Sum("count")).order_by())
    points, day = [], day_from
    while day <= day_to:
        points.append((day.strftime("%m-%d"), per_day.get(day, 0)))
        day += datetime.timedelta(days=1)
    per_store = list(
        facts.values("store_name")
        .annotate(count=Sum("count"), face_value=Sum("face_value"))
        .order_by("-count")[:20]
    )
    totals = facts.aggregate(count=Coalesce(Sum("count"), 0), face_value=Sum("face_value"))
    return {
        "form": form,
        "rows": facts[:500],
        "row_count": facts.count(),
        "totals": totals,
        "charts": [
            (_("Redemptions per day"), charts.column_chart(points, title=_("Redemptions per day"))),
            (
                _("Redemptions per store"),
                charts.hbar_chart(
                    per_store,
                    label="store_name",
                    series=[("count", "bar")],
                    title=_("Redemptions per store"),
                ),
            ),
        ],
    }


@export_builder("redemptions")
def redemption_export(user, query) -> ExportSpec:
    facts = redemption_rows(user, query)[1]
    fields = ("day", "store_name", "rule_code", "rule_name", "count", "face_value")
    return ExportSpec(
        title=_("Redemption summary export"),
        filename=_("redemption summary"),
        headers=[
            _("day"),
            _("store"),
            _("rule code"),
            _("coupon name"),
            _("count"),
            _("face value"),
        ],
        rows=(list(r) for r in facts.values_list(*fields).iterator(chunk_size=5000)),
        total=facts.count(),
    )


# --- promo codes: uses and cost by department / channel / merchant against budget ----------------

PROMO_DIMENSIONS = {
    "department": ("code__application__department__name", gettext_lazy("department")),
    "channel": ("code__application__channel__name", gettext_lazy("channel")),
    "merchant": ("merchant_name", gettext_lazy("merchant")),
}


def _require_cost(user):
    require_reports(user)
    if not has_perm(user, "reports.view_cost"):
        raise PermissionDenied


def promo_rows(user, query, dimension: str):
    _require_cost(user)
    form = SummaryForm(query, user=user)
    day_from, day_to = _period(form)
    uses = PromoCodeUse.objects.filter(
        used_at__gte=start_of_day(day_from),
        used_at__lt=min(start_of_day(day_to + datetime.timedelta(days=1)), end_of_yesterday()),
        cancelled_at__isnull=True,
    )
    store_scope = path_q(user, "store__path")
    if sees_everything(user):
        store_scope |= Q(store__isnull=True)
    uses = uses.filter(store_scope)
    if org := _org(form):
        uses = uses.filter(store__path__startswith=org.path)
    field, _label = PROMO_DIMENSIONS[dimension]
    uses = uses.annotate(
        merchant_name=Coalesce("charged_merchant__name", "code__application__merchant__name")
    )
    rows = list(
        uses.values(name=F(field))
        .annotate(uses=Count("id"), cost=Coalesce(Sum("discount"), Decimal("0")))
        .order_by("-cost")
    )
    if dimension == "department":
        budgets = defaultdict(Decimal)
        for b in DepartmentBudget.objects.filter(
            period_start__lte=day_to, period_end__gte=day_from
        ).values("department__name", "amount"):
            budgets[b["department__name"]] += b["amount"]
        for row in rows:
            row["budget"] = budgets.pop(row["name"], None)
        rows += [
            {"name": n, "uses": 0, "cost": Decimal("0"), "budget": a} for n, a in budgets.items()
        ]
    for row in rows:
        row["name"] = (
            row["name"]
            or {
                "department": _("platform (no department)"),
                "channel": _("no channel"),
                "merchant": _("no merchant"),
            }[dimension]
        )
        row["cost"] = to_money(row["cost"])
        budget = row.get("budget")
        row["used_pct"] = round(row["cost"] * 100 / budget, 1) if budget else None
        row["over"] = bool(budget is not None and row["cost"] > budget)
    return form, rows, (day_from, day_to)


def promo_summary(user, query) -> dict:
    dimension = query.get("by") if query.get("by") in PROMO_DIMENSIONS else "department"
    form, rows = promo_rows(user, query, dimension)[:2]
    has_budget = dimension == "department"
    return {
        "form": form,
        "dimension": dimension,
        "dimensions": [(k, v[1]) for k, v in PROMO_DIMENSIONS.items()],
        "rows": rows,
        "has_budget": has_budget,
        "totals": {
            "uses": sum(r["uses"] for r in rows),
            "cost": sum((r["cost"] for r in rows), Decimal("0")),
        },
        "charts": [
            (
                _("Cost"),
                charts.hbar_chart(
                    rows[:20],
                    label="name",
                    series=[("cost", "bar")] + ([("budget", "bar2")] if has_budget else []),
                    title=_("Cost"),
                ),
            )
        ],
    }


@export_builder("promocodes")
def promo_export(user, query) -> ExportSpec:
    dimension = query.get("by") if query.get("by") in PROMO_DIMENSIONS else "department"
    rows = promo_rows(user, query, dimension)[1]
    return ExportSpec(
        title=_("Promo code cost export"),
        filename=_("promo code usage and cost"),
        headers=[
            str(PROMO_DIMENSIONS[dimension][1]),
            _("uses"),
            pgettext("report", "cost"),
            _("budget"),
            _("budget used"),
        ],
        rows=([r["name"], r["uses"], r["cost"], r.get("budget"), r["used_pct"]] for r in rows),
        total=len(rows),
    )


# --- SMS spend by month ---------------------------------------------------------------------------


def sms_rows(user, query):
    _require_cost(user)
    if not sees_everything(user):  # SMS spend is the group's, not a store's
        raise PermissionDenied
    form = SummaryForm(query, user=user)
    day_from, day_to = _period(form)
    rows = list(
        SmsMessage.objects.filter(
            created_at__gte=start_of_day(day_from),
            created_at__lt=start_of_day(day_to + datetime.timedelta(days=1)),
        )
        .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_current_timezone()))
        .values("month")
        .annotate(
            messages=Count("id"),
            sent=Count("id", filter=Q(status=SmsMessage.Status.SENT)),
            refused=Count("id", filter=Q(status=SmsMessage.Status.REFUSED)),
            spend=Coalesce(Sum("cost"), Decimal("0")),
        )
        .order_by("month")
    )
    for row in rows:
        row["label"] = row["month"].strftime("%Y-%m")
    return form, rows


def sms_summary(user, query) -> dict:
    form, rows = sms_rows(user, query)
    return {
        "form": form,
        "rows": rows,
        "totals": {
            "messages": sum(r["messages"] for r in rows),
            "spend": sum((r["spend"] for r in rows), Decimal("0")),
        },
        "charts": [
            (
                _("SMS spend by month"),
                charts.column_chart(
                    [(r["label"], r["spend"]) for r in rows], title=_("SMS spend by month")
                ),
            )
        ],
    }


@export_builder("sms")
def sms_export(user, query) -> ExportSpec:
    rows = sms_rows(user, query)[1]
    return ExportSpec(
        title=_("SMS spend export"),
        filename=_("SMS spend"),
        headers=[_("month"), _("messages"), _("sent"), _("refused"), _("spend")],
        rows=([r["label"], r["messages"], r["sent"], r["refused"], r["spend"]] for r in rows),
        total=len(rows),
    )


# --- pickup codes by card type and batch ----------------------------------------------------------


def pickup_rows(user, query):
    require_reports(user)
    if not sees_everything(user):  # pickup codes belong to the group, not to a store
        raise PermissionDenied
    from pickup.models import PickupCode

    cut = end_of_yesterday()
    codes = PickupCode.objects.filter(batch__created_at__lt=cut)
    rows = list(
        codes.values("card_type__name", "batch_id", "batch__created_at", "batch__source")
        .annotate(
            generated=Count("serial"),
            used=Count("serial", filter=Q(status="used", used_at__lt=cut)),
            picked_up=Count("serial", filter=Q(picked_up=True, picked_up_at__lt=cut)),
            shipped=Count("serial", filter=Q(shipped=True, shipped_at__lt=cut)),
            red_packets=Count("serial", filter=Q(red_packet_amount__gt=0)),
            red_packet_amount=Coalesce(Sum("red_packet_amount"), Decimal("0")),
        )
        .order_by("card_type__name", "-batch_id")
    )
    for row in rows:
        row["batch_label"] = (
            f"#{row['batch_id']} {timezone.localtime(row['batch__created_at']):%Y-%m-%d}"
        )
    return None, rows  # no period or org: pickup codes are counted as they stand


def pickup_summary(user, query) -> dict:
    form, rows = pickup_rows(user, query)
    per_type = defaultdict(lambda: defaultdict(int))
    for r in rows:
        for key in ("generated", "used", "picked_up", "shipped"):
            per_type[r["card_type__name"]][key] += r[key]
    chart_rows = [{"name": name, **values} for name, values in per_type.items()]
    return {
        "form": form,
        "rows": rows,
        "charts": [
            (
                _("Generated / picked up / shipped per card type"),
                charts.hbar_chart(
                    chart_rows,
                    label="name",
                    series=[
                        ("generated", "bar2"),
                        ("picked_up", "bar3"),
                        ("shipped", "bar4"),
                    ],
                    title=_("Generated / picked up / shipped per card type"),
                ),
            )
        ],
    }


@export_builder("pickup")
def pickup_export(user, query) -> ExportSpec:
    rows = pickup_rows(user, query)[1]
    return ExportSpec(
        title=_("Pickup code summary export"),
        filename=_("pickup code summary"),
        headers=[
            pgettext("report", "card type"),
            _("batch"),
            _("generated"),
            _("redeemed"),
            _("picked up"),
            _("shipped"),
            _("red packets"),
            _("red packet amount"),
        ],
        rows=(
            [
                r["card_type__name"],
                r["batch_label"],
                r["generated"],
                r["used"],
                r["picked_up"],
                r["shipped"],
                r["red_packets"],
                r["red_packet_amount"],
            ]
            for r in rows
        ),
        total=len(rows),
    )


# --- outside coupons (seed 003): sold and redeemed by shop, activity and store --------------------


def outside_rows(user, query):
    require_reports(user)
    from redemption.models import OutsideCoupon

    form = SummaryForm(query, user=user)
    day_from, day_to = _period(form)
    start, end = start_of_day(day_from), start_of_day(day_to + datetime.timedelta(days=1))
    coupons = OutsideCoupon.objects.filter(
        Q(sold_at__gte=start, sold_at__lt=end) | Q(used_at__gte=start, used_at__lt=end)
    )
    # a store sees the coupons redeemed there; the group sees every shop's sales too
    coupons = coupons.filter(path_q(user, "used_store__path") | path_q(user, "shop__org__path"))
    if org := _org(form):
        coupons = coupons.filter(
            Q(used_store__path__startswith=org.path) | Q(shop__org__path__startswith=org.path)
        )
    sold = Q(sold_at__gte=start, sold_at__lt=end)
    redeemed = Q(status="used", used_at__gte=start, used_at__lt=end)
    rows = list(
        coupons.values("shop__name", "activity__name", "used_store__code", "used_store__name")
        .annotate(
            sold=Count("id", filter=sold),
            sales=Coalesce(Sum("activity__face_value", filter=sold), Decimal("0")),
            redeemed=Count("id", filter=redeemed),
        )
        .order_by("shop__name", "activity__name", "used_store__code")
    )
    for row in rows:
        row["store"] = (
            f"{row['used_store__code']}-{row['used_store__name']}"
            if row["used_store__code"]
            else ""
        )
    return form, rows


def outside_summary(user, query) -> dict:
    form, rows = outside_rows(user, query)
    per_shop = defaultdict(lambda: {"sold": 0, "redeemed": 0})
    for r in rows:
        per_shop[r["shop__name"]]["sold"] += r["sold"]
        per_shop[r["shop__name"]]["redeemed"] += r["redeemed"]
    return {
        "form": form,
        "rows": rows,
        "totals": {
            "sold": sum(r["sold"] for r in rows),
            "redeemed": sum(r["redeemed"] for r in rows),
        },
        "charts": [
            (
                _("Sold and redeemed per shop"),
                charts.hbar_chart(
                    [{"name": k, **v} for k, v in per_shop.items()],
                    label="name",
                    series=[("sold", "bar2"), ("redeemed", "bar")],
                    title=_("Sold and redeemed per shop"),
                ),
            )
        ],
    }


@export_builder("outside")
def outside_export(user, query) -> ExportSpec:
    rows = outside_rows(user, query)[1]
    return ExportSpec(
        title=_("Outside coupon summary export"),
        filename=_("outside coupon summary"),
        headers=[_("shop"), _("activity"), _("store"), _("sold"), _("sales amount"), _("redeemed")],
        rows=(
            [r["shop__name"], r["activity__name"], r["store"], r["sold"], r["sales"], r["redeemed"]]
            for r in rows
        ),
        total=len(rows),
    )


SUMMARIES = {
    "redemptions": (gettext_lazy("Redemptions"), redemption_summary, None),
    "promocodes": (pgettext_lazy("report", "Promo codes"), promo_summary, "reports.view_cost"),
    "sms": (gettext_lazy("SMS spend"), sms_summary, "reports.view_cost"),
    "pickup": (pgettext_lazy("report", "Pickup codes"), pickup_summary, "reports.view"),
    "outside": (pgettext_lazy("report", "Outside coupons"), outside_summary, None),
}
