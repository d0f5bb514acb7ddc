"""Reads of the redemption domain: the order dialog, the records list, challenges."""

from django.db.models import Exists, OuterRef, QuerySet

from couponhub.core.models import Org
from couponhub.core.permissions import scoped
from members.models import Member, MemberOrder
from redemption.filters import RecordFilter
from redemption.models import OutsideCoupon, Redemption, RedemptionLine


def orders_for_linking(member: Member, store: Org, limit: int = 30) -> QuerySet[MemberOrder]:
    """The member's orders at this store, newest first, with 是否已关联优惠券."""
    return (
        MemberOrder.objects.filter(member=member, store=store)
        .annotate(linked=Exists(Redemption.objects.filter(order=OuterRef("pk"))))
        .order_by("-traded_at", "-id")[:limit]
    )


def record_lines() -> QuerySet[RedemptionLine]:
    """Every redemption line with what the records page shows, in one query."""
    return RedemptionLine.objects.select_related(
        "coupon__rule",
        "coupon__member",
        "redemption__store",
        "redemption__clerk",
        "redemption__api_client",
        "redemption__order",
        "redemption__member",
    ).order_by("-redemption__created_at", "-id")


def redemption_detail(pk: int) -> QuerySet[Redemption]:
    return Redemption.objects.select_related("store", "member", "clerk", "api_client", "order")


def outside_coupons() -> QuerySet[OutsideCoupon]:
    return OutsideCoupon.objects.select_related("shop", "activity", "mapping", "used_store")


def member_redemption_lines(member: Member, scope, limit: int = 50) -> QuerySet[RedemptionLine]:
    """The member's redemption lines inside `scope` (a Q on the redemption's store)."""
    return (
        RedemptionLine.objects.filter(redemption__member=member)
        .filter(scope)
        .select_related(
            "coupon__rule", "redemption__store", "redemption__clerk", "redemption__order"
        )
        .order_by("-redemption__created_at", "-id")[:limit]
    )


def records_for(user, query: dict) -> QuerySet[RedemptionLine]:
    """The records page's lines (page and export): the user's stores, then the page's filters."""
    qs = scoped(user, "redemption.view_records", record_lines(), "redemption__store")
    return RecordFilter(query, queryset=qs).qs
