"""Home-page panel of the counter: today at this store, and the member search."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.panels import Panel, PanelData, Stat
from couponhub.core.permissions import has_perm
from couponhub.core.stores import current_store
from redemption.models import Redemption, RedemptionLine


def _counter(request) -> PanelData | None:
    store = current_store(request)
    if store is None or not has_perm(request.user, "redemption.view_records", store):
        return None
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + datetime.timedelta(days=1)
    today = Redemption.objects.filter(store=store, created_at__gte=start, created_at__lt=end)
    lines = RedemptionLine.objects.filter(redemption__in=today).count()
    returned = RedemptionLine.objects.filter(
        returned_at__gte=start, returned_at__lt=end, redemption__store=store
    ).count()
    return PanelData(
        template="redemption/_dashboard_counter.html",
        stats=[
            Stat(_("Redemptions today"), today.count()),
            Stat(_("Coupons redeemed today"), lines),
            Stat(_("Coupons returned today"), returned),
        ],
        note=store.label,
    )


PANELS = [Panel("redemption.counter", _("Counter today"), ("clerk", "store_manager"), _counter, 10)]
