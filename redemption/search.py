"""The header search (couponhub.core.global_search) over what the counter owns: members by phone,
card or member ID, POS orders, redemption numbers, outside consumption numbers, and — for counter
users who have no coupon lists — a member's coupon by its code. Scope is checked here: a number
outside the user's stores is simply not found."""

from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from couponhub.core.global_search import Hit
from couponhub.core.permissions import any_perm, has_perm, mask_phone, scope_q
from coupons.models import Coupon
from members.models import Member, MemberOrder
from redemption.models import OutsideCoupon, Redemption
from redemption.selectors import outside_coupon_scope

MEMBER_PERMS = ("members.lookup", "members.view")


def _member_url(member_id: int, anchor: str = "") -> str:
    return reverse("redemption:member_detail", args=[member_id]) + anchor


def _member_scope(user, field: str) -> Q:
    return scope_q(user, "members.lookup", field) | scope_q(user, "members.view", field)


def members(user, q: str) -> list[Hit]:
    if not any_perm(user, MEMBER_PERMS):
        return []
    found = Member.objects.filter(Q(phone=q) | Q(card_no=q) | Q(member_no=q))[:5]
    return [
        Hit(
            _("member"),
            f"{m.name or m.member_no} · {mask_phone(m.phone, user)}",
            _member_url(m.pk),
            _("card number %(card)s") % {"card": m.card_no},
        )
        for m in found
    ]


def orders(user, q: str) -> list[Hit]:
    if not any_perm(user, MEMBER_PERMS):
        return []
    found = (
        MemberOrder.objects.filter(order_no=q, member__isnull=False)
        .filter(_member_scope(user, "store"))
        .select_related("store")[:5]
    )
    return [
        Hit(
            _("member order"),
            o.order_no,
            _member_url(o.member_id, "#orders"),
            f"{o.store.name} · ¥{o.total:,.2f}",
        )
        for o in found
    ]


def redemptions(user, q: str) -> list[Hit]:
    hits = []
    for perm in ("redemption.redeem", "redemption.view_records"):
        if not has_perm(user, perm):
            continue
        found = (
            Redemption.objects.filter(redemption_no=q)
            .filter(scope_q(user, perm, "store"))
            .select_related("store")
            .first()
        )
        if found is None:
            continue
        if perm == "redemption.redeem":
            url = reverse("redemption:receipt", args=[found.pk])
        else:
            first = found.lines.select_related("coupon").first()
            code = first.coupon.code if first else ""
            url = f"{reverse('redemption:records')}?{urlencode({'code': code})}"
        hits.append(Hit(_("redemption"), found.redemption_no, url, found.store.name))
        break
    return hits


def outside_coupons(user, q: str) -> list[Hit]:
    coupon = (
        OutsideCoupon.objects.filter(Q(code=q) | Q(code=q.upper()))
        .filter(outside_coupon_scope(user))
        .select_related("shop", "used_store")
        .first()
    )
    if coupon is None:
        return []
    where = coupon.used_store.name if coupon.used_store_id else ""
    return [
        Hit(
            _("outside coupon"),
            coupon.code,
            reverse("redemption:outside_coupon", args=[coupon.pk]),
            " · ".join(x for x in (coupon.shop.name, coupon.get_status_display(), where) if x),
        )
    ]


def member_coupons(user, q: str) -> list[Hit]:
    """A counter user without coupon lists finds a member's coupon on the member's page."""
    if has_perm(user, "coupons.view") or not any_perm(user, MEMBER_PERMS):
        return []
    coupon = (
        Coupon.objects.filter(
            Q(code=q.upper()) | Q(code=q) | Q(recharge_no=q), member__isnull=False
        )
        .select_related("rule")
        .first()
    )
    if coupon is None:
        return []
    return [
        Hit(
            _("coupon"),
            coupon.code,
            _member_url(coupon.member_id, "#coupons"),
            f"{coupon.rule.name} · {coupon.get_effective_status_display()}",
        )
    ]


PROVIDERS = [members, orders, redemptions, outside_coupons, member_coupons]
