"""Home-page panels read from the report facts (up to yesterday) and cached aggregates: the store
manager's week, HQ's chain KPIs with charts."""

import datetime

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from couponhub.core.panels import Panel, PanelData, Stat, cached
from coupons.models import CouponRule
from reports import charts
from reports.models import PromoDailyFact, RedemptionDailyFact, UValueCouponFact
from reports.scope import path_q

DAYS = 30


def _days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def _per_day(facts, first, last) -> list[tuple[str, int]]:
    counts = dict(
        facts.filter(day__gte=first, day__lte=last)
        .values_list("day")
        .annotate(n=Sum("count"))
        .order_by()
    )
    return [(d.strftime("%m-%d"), counts.get(d, 0)) for d in _days(first, last)]


def _store_week(request) -> PanelData | None:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    first = yesterday - datetime.timedelta(days=6)
    facts = RedemptionDailyFact.objects.filter(path_q(request.user))
    points = _per_day(facts, first, yesterday)
    total = sum(n for _d, n in points)
    return PanelData(
        stats=[Stat(_("Redemptions in the last 7 days"), total)],
        chart=charts.column_chart(points, title=_("Redemptions per day")),
        note=_("Report data up to yesterday."),
        link=(_("Redemption summary"), reverse("reports:summary", args=["redemptions"])),
    )


def _kpis(user) -> dict:
    today = timezone.localdate()
    first = today - datetime.timedelta(days=DAYS)
    yesterday = today - datetime.timedelta(days=1)
    facts = RedemptionDailyFact.objects.filter(path_q(user))
    issued = CouponRule.objects.aggregate(n=Coalesce(Sum("issued_count"), 0))["n"]
    redeemed = facts.aggregate(n=Coalesce(Sum("count"), 0))["n"]
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    until = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    # the last 30 days through the (-obtained_at) index, not a sum over every fact row
    u_value = UValueCouponFact.objects.filter(
        path_q(user), obtained_at__gte=since, obtained_at__lt=until
    ).aggregate(u=Coalesce(Sum("u_value_paid"), 0), yuan=Sum("u_value_yuan"))
    # thirty days of the daily facts, not the uses of thirty days (each joined to its channel)
    by_channel = list(
        PromoDailyFact.objects.filter(day__gte=first, day__lte=yesterday)
        .values("channel_name")
        .annotate(discount=Sum("discount"))
        .order_by("-discount")[:10]
    )
    return {
        "issued": issued,
        "redeemed": redeemed,
        "u_value": u_value["u"],
        "u_value_yuan": u_value["yuan"] or 0,
        "per_day": _per_day(facts, first, yesterday),
        "by_channel": [
            {"channel": row["channel_name"] or "—", "discount": row["discount"]}
            for row in by_channel
        ],
    }


def _hq(request) -> PanelData:
    kpis = cached("hq_kpis", request.user, "reports.view", lambda: _kpis(request.user))
    rate = f"{kpis['redeemed'] / kpis['issued']:.1%}" if kpis["issued"] else "—"
    chart = charts.column_chart(kpis["per_day"], title=_("Redemptions per day"))
    if kpis["by_channel"]:
        chart += charts.hbar_chart(
            kpis["by_channel"],
            label="channel",
            series=[("discount", "bar")],
            title=_("Promo-code discount by channel in 30 days"),
        )
    return PanelData(
        stats=[
            Stat(_("Coupons issued"), f"{kpis['issued']:,}"),
            Stat(_("Coupons redeemed"), f"{kpis['redeemed']:,}"),
            Stat(_("Redemption rate"), rate),
            Stat(
                _("U-value spent in 30 days"),
                f"{kpis['u_value']:,}U（¥{kpis['u_value_yuan']:,.2f}）",
            ),
        ],
        chart=chart,
        note=_(
            "Redemptions, U-value and promo-code discount: report data up to yesterday, "
            "refreshed every 5 minutes."
        ),
        link=(_("Reports"), reverse("reports:summary", args=["redemptions"])),
    )


PANELS = [
    Panel(
        "reports.store_week", gettext_lazy("This store's week"), ("store_manager",), _store_week, 20
    ),
    Panel("reports.hq", gettext_lazy("The chain at a glance"), ("hq",), _hq, 70),
]
