"""Reads of the members domain: finding a member and what the lookup page shows."""

import re
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from couponhub.core.models import Org
from members.models import (
    Member,
    MemberImport,
    MemberOrder,
    MemberOrderItem,
    MemberTag,
    PointsEntry,
    StoredValueEntry,
    UValueEntry,
)

QUERY_RE = re.compile(r"^[0-9A-Za-z]{1,30}$")


@dataclass
class MemberSearch:
    member: Member | None
    error: str = ""


def normalise_query(q: str) -> str:
    return re.sub(r"[\s\-]", "", q or "")


def find_member(q: str) -> MemberSearch:
    """One box for a phone, card number or member ID; a Chinese message when it can't be used."""
    q = normalise_query(q)
    if not q:
        return MemberSearch(None, "请输入会员手机号/会员卡号/会员ID")
    if not QUERY_RE.match(q):
        return MemberSearch(
            None, "查询内容格式不正确：只能输入手机号、会员卡号或会员ID（数字或字母）"
        )
    member = _find_one(q)
    if member is None:
        if q.isdigit() and q.startswith("1") and 8 <= len(q) <= 13 and len(q) != 11:
            return MemberSearch(None, f"手机号格式不正确：应为11位数字（输入了{len(q)}位）")
        return MemberSearch(None, f"未找到会员：{q}")
    return MemberSearch(member)


def _find_one(q: str) -> Member | None:
    qs = Member.objects.select_related("registration_store")
    if q.isdigit() and len(q) == 11 and q.startswith("1"):
        member = qs.filter(phone=q).first()
        if member:
            return member
    return (qs.filter(card_no=q) | qs.filter(member_no=q)).first()


# A store sees a member's orders at that store only (the counter shows what was bought here;
# other stores' orders are theirs): every tab and count below takes the store.


def member_counters(member: Member, store: Org) -> dict[str, int]:
    """Orders and distinct products bought at `store`."""
    orders = MemberOrder.objects.filter(member=member, store=store)
    counts = orders.aggregate(orders=Count("id"))
    counts["products"] = (
        MemberOrderItem.objects.filter(order__member=member, order__store=store)
        .values("sku")
        .distinct()
        .count()
    )
    return counts


def recent_orders(member: Member, store: Org, limit: int = 20) -> QuerySet[MemberOrder]:
    return MemberOrder.objects.filter(member=member, store=store).select_related("store")[:limit]


def frequent_products(member: Member, store: Org, limit: int = 20) -> list[dict]:
    """Products the member buys most at `store`, aggregated from order items."""
    return list(
        MemberOrderItem.objects.filter(
            order__member=member, order__store=store, order__status=MemberOrder.Status.PAID
        )
        .values("sku", "name", "category")
        .annotate(times=Count("order", distinct=True), qty=Sum("qty"), amount=Sum("amount"))
        .order_by("-times", "-qty", "sku")[:limit]
    )


def points_entries(member: Member, limit: int = 20) -> QuerySet[PointsEntry]:
    return PointsEntry.objects.filter(member=member).order_by("-created_at", "-id")[:limit]


def u_value_entries(member: Member, limit: int = 20) -> QuerySet[UValueEntry]:
    return UValueEntry.objects.filter(member=member).order_by("-created_at", "-id")[:limit]


def member_list() -> QuerySet[Member]:
    return Member.objects.select_related("registration_store").prefetch_related("tags")


def member_tags() -> QuerySet[MemberTag]:
    return MemberTag.objects.all()


def tag_list() -> QuerySet[MemberTag]:
    """The tags page: each tag with how many members have it."""
    return MemberTag.objects.annotate(member_count=Count("members"))


def member_imports_for(user) -> QuerySet:
    return MemberImport.objects.filter(created_by=user).select_related("job")


def stored_value_entries(member: Member, limit: int = 20) -> QuerySet[StoredValueEntry]:
    return StoredValueEntry.objects.filter(member=member).order_by("-created_at", "-id")[:limit]


def member_orders(member: Member, scope, limit: int = 50) -> QuerySet[MemberOrder]:
    """The member's orders inside `scope` (a Q on the order's store), newest first."""
    return (
        MemberOrder.objects.filter(member=member)
        .filter(scope)
        .select_related("store")
        .order_by("-traded_at", "-id")[:limit]
    )


MAX_LIST_ROWS = 100_000


def members_from_rows(rows) -> tuple[list[int], list[dict]]:
    """Member ids from an uploaded list whose first column is a phone, card number or member ID
    (a first row without digits is a header); the rows naming no member, with their number."""
    keys: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=1):
        value = (row[0] if row else "").strip()
        if not value or (number == 1 and not any(ch.isdigit() for ch in value)):
            continue
        keys.append((number, value))
        if len(keys) > MAX_LIST_ROWS:
            break
    found: dict[str, int] = {}
    values = [value for _n, value in keys]
    for start in range(0, len(values), 5000):
        chunk = values[start : start + 5000]
        for pk, *names in Member.objects.filter(
            Q(phone__in=chunk) | Q(card_no__in=chunk) | Q(member_no__in=chunk)
        ).values_list("pk", "phone", "card_no", "member_no"):
            for name in names:
                found.setdefault(name, pk)
    ids, seen, errors = [], set(), []
    for number, value in keys:
        pk = found.get(value)
        if pk is None:
            errors.append({"row": number, "value": value})
        elif pk not in seen:
            seen.add(pk)
            ids.append(pk)
    return ids, errors
