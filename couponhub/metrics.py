"""The apps' figures on /metrics, read from the database when Prometheus scrapes.

They live here, at the project's top beside the URLs that mount every app, because the core
(which serves /metrics, `couponhub.core.metrics`) imports no app. Each is a total counted by one
indexed query, so the figure is the same whichever web process answers, and a rate over it is a
rate of business: redemptions by method, coupon returns, promo-code uses.
"""

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily

from couponhub.core.metrics import register_collector
from promocodes.models import PromoCodeUse
from redemption.models import Redemption, RedemptionLine


def _domain_collector():
    redemptions = CounterMetricFamily(
        "couponhub_redemptions",
        "Counter redemptions (one per receipt), by method",
        labels=["method"],
    )
    for row in Redemption.objects.values("method").annotate(n=Count("id")).order_by():
        redemptions.add_metric([row["method"]], row["n"])
    yield redemptions
    yield CounterMetricFamily(
        "couponhub_coupon_returns",
        "Redeemed coupons given back (退券)",
        value=RedemptionLine.objects.filter(returned_at__isnull=False).count(),
    )
    yield CounterMetricFamily(
        "couponhub_promo_code_uses",
        "Promo codes used at checkout",
        value=PromoCodeUse.objects.count(),
    )


register_collector(_domain_collector)
