"""Outbound events: a transactional outbox and its delivery to subscribers.

A service calls `record_event(type, data, org=…)` next to `record_audit`, inside its own
transaction: the Event row and one EventDelivery per interested subscriber are written with the
business change, so they exist exactly when it was committed — a rolled-back transaction leaves
nothing to deliver (and with no subscriber that wants the event, nothing is written). On
commit a Celery task is kicked to deliver at once; a periodic sweep (every minute) delivers
whatever is due: retries with exponential back-off, and any kick that was lost (a worker down,
a broker hiccup). A receiver that is down therefore loses nothing: its deliveries stay pending
and are retried for a day, after which an admin can resend them.

Each delivery is a POST of the event as JSON, signed like our own API (`couponhub.core.signing`:
X-Timestamp, X-Nonce, X-Signature over method, path, timestamp, nonce and the body's SHA-256,
with the subscriber's secret) and carrying X-Event-Id, by which a receiver drops a repeat: a
delivery is retried until a 2xx comes back, so a receiver whose answer was lost sees it again.
While one is sent its row is locked (`select_for_update(skip_locked=True)`), so the kick and
the sweep never send one delivery at the same time.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.audit import _jsonable, record_audit
from couponhub.core.errors import Refused
from couponhub.core.models import (
    DeliveryAttempt,
    Event,
    EventDelivery,
    EventSubscriber,
    Org,
)
from couponhub.core.signing import sign

logger = logging.getLogger(__name__)

EVENT_TYPES = {
    "coupon.redeemed": _("coupon redeemed"),
    "coupon.returned": _("coupon returned"),
    "outside_coupon.redeemed": pgettext_lazy("event type", "outside coupon redeemed"),
    "pickup_order.created": _("pickup order created"),
    "pickup_order.shipped": _("pickup order shipped"),
    "pickup_order.completed": _("pickup order completed"),
    "promo_code.used": _("promo code used"),
    "promo_code.cancelled": _("promo code use cancelled"),
    "job.finished": _("background job finished"),
}
RETRY_FOR = timedelta(days=1)
TIMEOUT_SECONDS = 10
SWEEP_BATCH = 500


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour: about 30 tries in a day."""
    base = getattr(settings, "EVENT_RETRY_BASE_SECONDS", 30)
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 3600))


def record_event(type: str, data: dict, *, org: Org | None = None) -> Event | None:
    """Write an event and its deliveries in the caller's transaction; deliver after commit.
    With no subscriber that wants it nothing is written (a subscriber gets the events recorded
    after it was added), so a redemption nobody listens to costs one small SELECT."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    data = _jsonable(data)
    subscribers = [
        subscriber
        for subscriber in EventSubscriber.objects.filter(
            is_active=True, event_types__contains=[type]
        )
        if all(data.get(key) == value for key, value in subscriber.match.items())
    ]
    if not subscribers:
        return None
    event = Event.objects.create(type=type, data=data, org=org)
    EventDelivery.objects.bulk_create(
        EventDelivery(
            event=event,
            subscriber=subscriber,
            next_attempt_at=event.created_at,
            give_up_at=event.created_at + RETRY_FOR,
        )
        for subscriber in subscribers
    )
    transaction.on_commit(lambda: deliver_event_task.delay(event.pk))
    return event


def event_body(event: Event) -> bytes:
    return json.dumps(
        {
            "id": str(event.uuid),
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def signed_headers(subscriber: EventSubscriber, event: Event, body: bytes) -> dict[str, str]:
    parts = urlsplit(subscriber.url)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "CouponHub-Events/1",
        "X-Event-Id": str(event.uuid),
        "X-Event-Type": event.type,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": sign(subscriber.secret, "POST", path, timestamp, nonce, body),
    }


def deliver(delivery_id: int, *, now=None) -> bool | None:
    """Send one due delivery; True when the receiver took it, False when it did not (retried
    later, or given up past its day), None when it was not due, not pending or being sent."""
    with transaction.atomic():
        delivery = (
            EventDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "subscriber")
            .filter(pk=delivery_id, status=EventDelivery.Status.PENDING)
            .first()
        )
        now = now or timezone.now()
        if delivery is None or delivery.next_attempt_at > now:
            return None
        event, subscriber = delivery.event, delivery.subscriber
        body = event_body(event)
        started = time.monotonic()
        status_code, error = None, ""
        try:
            response = requests.post(
                subscriber.url,
                data=body,
                headers=signed_headers(subscriber, event, body),
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        DeliveryAttempt.objects.create(
            delivery=delivery,
            status_code=status_code,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        delivery.attempts += 1
        if not error:
            delivery.status = EventDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
        else:
            delivery.last_error = error
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            if delivery.next_attempt_at > delivery.give_up_at:
                delivery.status = EventDelivery.Status.FAILED
        delivery.save(
            update_fields=["attempts", "status", "delivered_at", "last_error", "next_attempt_at"]
        )
    if error:
        logger.info("event %s to %s failed: %s", event.uuid, subscriber.pk, error)
    return not error


def deliver_due(*, now=None, event_id: int | None = None) -> int:
    """Send every pending delivery that is due (of one event, or all); returns how many the
    receivers took."""
    now = now or timezone.now()
    due = EventDelivery.objects.filter(
        status=EventDelivery.Status.PENDING, next_attempt_at__lte=now
    )
    if event_id is not None:
        due = due.filter(event_id=event_id)
    ids = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    return sum(1 for pk in ids if deliver(pk, now=now))


# Tasks live here, beside the outbox that kicks them (as jobs.py keeps run_job_task): names
# under couponhub.core.events.deliver… so that they can be routed to a queue of their own.
@shared_task(name="couponhub.core.events.deliver_event_task")
def deliver_event_task(event_id: int) -> int:
    return deliver_due(event_id=event_id)


@shared_task(name="couponhub.core.events.deliver_due_events_task")
def deliver_due_events_task() -> int:
    return deliver_due()


KEEP_FOR = timedelta(days=30)


def purge_old_events(now=None) -> int:
    """Events older than KEEP_FOR with nothing left to send go, with their delivery log."""
    now = now or timezone.now()
    old = Event.objects.filter(created_at__lt=now - KEEP_FOR).exclude(
        deliveries__status=EventDelivery.Status.PENDING
    )
    deleted, _ = Event.objects.filter(pk__in=old.values("pk")).delete()
    return deleted


@shared_task(name="couponhub.core.events.purge_old_events_task")
def purge_old_events_task() -> int:
    return purge_old_events()


# ---------------------------------------------------------------------------
# Subscribers and resending (the admin's pages)
# ---------------------------------------------------------------------------


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    allowed = ("https",) if not getattr(settings, "EVENTS_ALLOW_HTTP", False) else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        raise Refused("subscriber_url", "接收地址：必须是https://开头的完整网址")
    return url


def check_types(event_types: list[str]) -> list[str]:
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown or not event_types:
        raise Refused("subscriber_types", "事件类型：至少选择一种已知的事件")
    return sorted(set(event_types))


def create_subscriber(
    *, actor, name: str, url: str, event_types: list[str]
) -> tuple[EventSubscriber, str]:
    """Register an endpoint; returns it and its new secret (shown this once, kept encrypted)."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        subscriber = EventSubscriber.objects.create(
            name=name.strip()[:100],
            url=check_url(url),
            secret=secret,
            event_types=check_types(event_types),
        )
        record_audit(
            actor=actor,
            action="core.subscriber.create",
            obj=subscriber,
            after={"url": subscriber.url, "event_types": subscriber.event_types},
        )
    return subscriber, secret


def update_subscriber(
    *, actor, subscriber: EventSubscriber, url: str, event_types: list[str], is_active: bool
) -> EventSubscriber:
    if subscriber.source:
        raise Refused(
            "subscriber_managed", f"订阅“{subscriber.name}”由其商家的绑定页维护，不能在此修改", 409
        )
    with transaction.atomic():
        before = {
            "url": subscriber.url,
            "types": subscriber.event_types,
            "on": subscriber.is_active,
        }
        subscriber.url = check_url(url)
        subscriber.event_types = check_types(event_types)
        subscriber.is_active = is_active
        subscriber.save(update_fields=["url", "event_types", "is_active"])
        record_audit(
            actor=actor,
            action="core.subscriber.update",
            obj=subscriber,
            before=before,
            after={"url": subscriber.url, "types": subscriber.event_types, "on": is_active},
        )
    return subscriber


def save_source_subscriber(
    *,
    source: str,
    name: str,
    url: str,
    secret: str,
    event_types: list[str],
    match: dict,
    active: bool,
) -> EventSubscriber | None:
    """The subscriber an app keeps for one of its records (a partner shop's callback), found by
    `source`; with no URL it is switched off. Called inside the app's service transaction."""
    subscriber = EventSubscriber.objects.select_for_update().filter(source=source).first()
    if not url:
        if subscriber is not None:
            subscriber.is_active = False
            subscriber.save(update_fields=["is_active"])
        return subscriber
    subscriber = subscriber or EventSubscriber(source=source)
    subscriber.name = name[:100]
    subscriber.url = check_url(url)
    subscriber.secret = secret
    subscriber.event_types = check_types(event_types)
    subscriber.match = match
    subscriber.is_active = active
    subscriber.save()
    return subscriber


def resend_delivery(*, actor, delivery: EventDelivery) -> EventDelivery:
    """Send a delivery again now (a given-up one, or one the receiver lost), for another day."""
    now = timezone.now()
    with transaction.atomic():
        EventDelivery.objects.filter(pk=delivery.pk).update(
            status=EventDelivery.Status.PENDING,
            next_attempt_at=now,
            give_up_at=now + RETRY_FOR,
        )
        record_audit(
            actor=actor,
            action="core.event.resend",
            obj=delivery.event,
            note=f"→ {delivery.subscriber.name}",
        )
        event_id = delivery.event_id
        transaction.on_commit(lambda: deliver_event_task.delay(event_id))
    delivery.refresh_from_db()
    return delivery
