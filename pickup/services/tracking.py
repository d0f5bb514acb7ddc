"""已完成 when the consumer signs for the parcel (seed 002 §5.1): shipped online orders are looked
up with the courier-tracking backend (`pickup.tracking`) by a beat task; a parcel signed for
completes its order. The nightly N-days rule (`complete_shipped_orders`) stays the fallback for
parcels the backend never reports signed."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from couponhub.core.errors import Refused
from pickup import tracking
from pickup.models import PickupOrder, TrackingState
from pickup.services.orders import complete_order

S = PickupOrder.Status

logger = logging.getLogger(__name__)

# 快递100 asks that one parcel is not queried again within half an hour; two hours between looks
# at one order and at most TRACK_BATCH orders per run keep a busy season within its quotas.
TRACK_EVERY = dt.timedelta(hours=2)
TRACK_BATCH = 300


def orders_to_track(now: dt.datetime):
    """Shipped online orders with a courier and tracking number, not looked up for TRACK_EVERY,
    the longest unchecked first."""
    return (
        PickupOrder.objects.filter(
            kind=PickupOrder.Kind.ONLINE, status=S.SHIPPED, deleted_at=None, courier__isnull=False
        )
        .exclude(tracking_no="")
        .filter(Q(tracking_checked_at=None) | Q(tracking_checked_at__lte=now - TRACK_EVERY))
        .select_related("courier")
        .order_by(F("tracking_checked_at").asc(nulls_first=True), "pk")
    )


def track_shipped_orders(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Ask the backend about each due order (outside any transaction: a slow provider holds no
    lock), then record the answer; returns how many orders got each state."""
    now = now or timezone.now()
    backend = tracking.get_backend()
    counts: dict[str, int] = {}
    for order in list(orders_to_track(now)[:TRACK_BATCH]):
        result = backend.query(
            courier_code=order.courier.code,
            tracking_no=order.tracking_no,
            phone=order.consumer_phone,
        )
        record_tracking(order=order, result=result, now=now)
        counts[result.state] = counts.get(result.state, 0) + 1
    return counts


def record_tracking(
    *, order: PickupOrder, result: tracking.TrackingResult, now: dt.datetime | None = None
) -> PickupOrder:
    """Keep what the backend said on the order; a parcel signed for completes the order (a
    conditional update: an order completed, cancelled or deleted meanwhile stays as it is)."""
    now = now or timezone.now()
    state = result.state if result.state in TrackingState.values else TrackingState.ERROR
    with transaction.atomic():
        changes = {
            "tracking_checked_at": now,
            "tracking_detail": result.detail[:200],
            "tracking_state": state,
        }
        if state == TrackingState.SIGNED:
            changes["signed_at"] = result.signed_at or now
        PickupOrder.objects.filter(pk=order.pk).update(**changes)
        order.refresh_from_db()
        if state == TrackingState.SIGNED:
            signed_at = timezone.localtime(order.signed_at)
            try:
                order = complete_order(
                    actor=None,
                    order=order,
                    note=f"快递签收后自动完成（{signed_at:%Y-%m-%d %H:%M}签收）",
                    completed_at=order.signed_at,
                )
            except Refused:
                logger.info("order %s signed for but no longer shipped", order.order_no)
    return order
