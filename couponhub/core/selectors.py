from django.db.models import QuerySet

from couponhub.core.models import (
    AuditEntry,
    DeliveryAttempt,
    EventDelivery,
    EventSubscriber,
    Job,
    SmsMessage,
)


def audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.all()


def jobs_for_owner(user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user)


def sms_messages() -> QuerySet[SmsMessage]:
    return SmsMessage.objects.select_related("account")


def event_subscribers() -> QuerySet[EventSubscriber]:
    return EventSubscriber.objects.all()


def event_deliveries(query: dict) -> QuerySet[EventDelivery]:
    """The delivery log, newest first, narrowed by subscriber, status and event type."""
    qs = EventDelivery.objects.select_related("event", "subscriber")
    if (subscriber := query.get("subscriber", "")).isdigit():
        qs = qs.filter(subscriber_id=int(subscriber))
    if (status := query.get("status")) in EventDelivery.Status.values:
        qs = qs.filter(status=status)
    if event_type := query.get("type"):
        qs = qs.filter(event__type=event_type)
    return qs.order_by("-id")


def delivery_attempts(delivery: EventDelivery) -> QuerySet[DeliveryAttempt]:
    return delivery.log.all()
