"""Who a member message goes to, and what it costs."""

import datetime

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from couponhub.core.models import Org
from couponhub.core.sms import sms_price
from coupons.models import Coupon
from members.models import Member
from messaging.models import Delivery, MemberMessage

DAILY_LIMIT = 1  # member messages one member receives a day at most

Selection = MemberMessage.Selection


def selected_members(selection: str, params: dict) -> QuerySet[Member]:
    members = Member.objects.all()
    if selection == Selection.RULE:
        return members.filter(
            Exists(Coupon.objects.filter(member=OuterRef("pk"), rule_id=params["rule_id"]))
        )
    if selection == Selection.LEVEL:
        return members.filter(level=params["level"])
    if selection == Selection.TAG:
        return members.filter(tags=params["tag_id"])
    if selection == Selection.STORE:
        store = Org.objects.get(pk=params["store_id"])
        return members.filter(registration_store__path__startswith=store.path)
    return members.filter(pk__in=params.get("member_ids", []))


def at_daily_limit(day: datetime.date) -> QuerySet[Delivery]:
    return Delivery.objects.filter(member=OuterRef("pk"), day=day, status=Delivery.Status.SENT)


def reachable(selection: str, params: dict, day: datetime.date | None = None) -> QuerySet[Member]:
    """The selection without members who opted out or already got today's message."""
    day = day or timezone.localdate()
    members = selected_members(selection, params).filter(sms_opt_out=False)
    if DAILY_LIMIT == 1:
        return members.exclude(Exists(at_daily_limit(day)))
    return members


def estimate(selection: str, params: dict) -> dict:
    selected = selected_members(selection, params)
    total = selected.count()
    opted_out = selected.filter(sms_opt_out=True).count()
    recipients = reachable(selection, params).count()
    price = sms_price()
    return {
        "selected": total,
        "opted_out": opted_out,
        "at_limit": total - opted_out - recipients,
        "recipients": recipients,
        "price": price,
        "cost": price * recipients,
    }


def messages_for(user) -> QuerySet[MemberMessage]:
    return MemberMessage.objects.select_related("created_by", "job")
