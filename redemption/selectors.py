"""Reads of the redemption domain: the order dialog, the records list, challenges."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value

from couponhub.core.models import AuditEntry, EventDelivery, Org
from couponhub.core.permissions import has_perm, scope_q, scoped
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
    """票券档案: every outside coupon with its shop, mapping, activity and redeeming store."""
    return OutsideCoupon.objects.select_related(
        "shop", "activity", "mapping", "used_store"
    ).order_by("-sold_at", "-id")


def outside_coupon_scope(user) -> Q:
    """The outside coupons a user may open: the shops of their org nodes (票券档案,
    redemption.manage_outside), and those redeemed at their stores (the till, redemption.redeem).
    A coupon outside reads as one that does not exist."""
    scope = Q(pk__in=[])
    if has_perm(user, "redemption.manage_outside"):
        scope |= scope_q(user, "redemption.manage_outside", "shop__org")
    if has_perm(user, "redemption.redeem"):
        scope |= scope_q(user, "redemption.redeem", "used_store")
    return scope


def outside_coupon_detail(user) -> QuerySet[OutsideCoupon]:
    return (
        OutsideCoupon.objects.filter(outside_coupon_scope(user))
        .select_related("shop__org", "activity", "mapping", "used_store", "member")
        .prefetch_related("activity__stores")
    )


def outside_coupon_history(coupon: OutsideCoupon) -> QuerySet[AuditEntry]:
    """Its audit entries (received, redeemed, returned), oldest first."""
    return AuditEntry.objects.filter(
        object_type=coupon._meta.label_lower, object_id=str(coupon.pk)
    ).order_by("created_at", "id")


def outside_coupon_callbacks(coupon: OutsideCoupon) -> QuerySet[EventDelivery]:
    """The partner shop's redemption notices for this coupon (its callback URL's deliveries),
    newest first; found through the shop's subscriber, so only that shop's deliveries are read."""
    return (
        EventDelivery.objects.filter(
            subscriber__source=f"outside_shop:{coupon.shop_id}",
            event__type="outside_coupon.redeemed",
            event__data__code=coupon.code,
        )
        .select_related("event", "subscriber")
        .order_by("-event__created_at", "-id")
    )


def member_outside_coupons(member: Member, limit: int = 50) -> list[OutsideCoupon]:
    """The member's outside coupons (bound to the member, or sold to the member's phone), for the
    wallet: unused first, then the newest."""
    return list(
        OutsideCoupon.objects.filter(Q(member=member) | Q(phone=member.phone))
        .select_related("activity", "shop", "used_store")
        .order_by("-status", "-sold_at", "-id")[:limit]
    )


def record_parts(lines: QuerySet[RedemptionLine], outside: QuerySet[OutsideCoupon]) -> dict:
    """The records page's rows by kind, as (kind, row_id, at): our redemption lines and
    outside-coupon redemptions. The page is their UNION newest first (`UnionPaginator`);
    `record_objects` then loads the objects of one page."""
    ours = lines.order_by().values(
        kind=Value("coupon"), row_id=F("pk"), at=F("redemption__created_at")
    )
    theirs = (
        outside.filter(used_at__isnull=False)
        .order_by()
        .values(kind=Value("outside"), row_id=F("pk"), at=F("used_at"))
    )
    return {"coupon": ours, "outside": theirs}


def record_rows(parts: dict) -> QuerySet:
    """The UNION of `record_parts`, newest first (the table's data when it is not paged)."""
    ours, theirs = parts["coupon"], parts["outside"]
    return ours.union(theirs, all=True).order_by("-at", "-row_id", "-kind")


def record_objects(rows) -> dict[tuple[str, int], object]:
    """The RedemptionLine / OutsideCoupon of each (kind, row_id) of one page, in two queries."""
    wanted = {"coupon": [], "outside": []}
    for row in rows:
        wanted[row["kind"]].append(row["row_id"])
    found = {}
    if wanted["coupon"]:
        for line in record_lines().filter(pk__in=wanted["coupon"]):
            found[("coupon", line.pk)] = line
    if wanted["outside"]:
        for coupon in outside_coupons().select_related("member").filter(pk__in=wanted["outside"]):
            found[("outside", coupon.pk)] = coupon
    return found


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
    return RecordFilter(query, queryset=qs, user=user).qs
