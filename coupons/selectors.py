"""Reads of the coupons domain: usability, the member's wallet tabs, lists."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from couponhub.core.models import Org
from couponhub.core.permissions import scoped
from coupons.filters import CouponFilter
from coupons.models import Campaign, Coupon, CouponRule, store_ancestor_ids
from members.models import Member

Status = Coupon.Status

# The six tabs of the member lookup page, in the seed's order.
TABS = ("usable", "unusable", "used", "expired", "voided", "frozen")


def tab_q(tab: str, store: Org, now) -> Q:
    """The filter of one wallet tab; a coupon past valid_to is in 'expired' whatever it stores."""
    usable = Coupon.usable_q(store, now)
    live_unused = Q(status=Status.UNUSED, valid_to__gte=now)
    return {
        "usable": usable,
        "unusable": live_unused & ~usable,
        "used": Q(status=Status.USED),
        "expired": Q(status=Status.EXPIRED) | Q(status=Status.UNUSED, valid_to__lt=now),
        "voided": Q(status=Status.VOIDED),
        "frozen": Q(status=Status.FROZEN),
    }[tab]


def usable_coupons_for(member: Member, store: Org, now=None) -> QuerySet[Coupon]:
    """The member's coupons usable at `store` right now (tab 本店可用), oldest expiry first."""
    now = now or timezone.now()
    return (
        Coupon.objects.filter(member=member)
        .filter(Coupon.usable_q(store, now))
        .select_related("rule", "campaign")
        .order_by("valid_to", "id")
    )


def wallet_counts(member: Member, store: Org, now=None) -> dict[str, int]:
    """Counts of the six tabs in one query."""
    now = now or timezone.now()
    return Coupon.objects.filter(member=member).aggregate(
        **{tab: Count("id", filter=tab_q(tab, store, now)) for tab in TABS},
        total=Count("id", filter=~Q(status__in=[Status.GENERATED, Status.RECEIVED])),
    )


WALLET_PAGE = 60  # coupons a wallet tab shows at a time


def wallet_tab(
    member: Member, store: Org, tab: str, now=None, *, page: int = 1, per_page: int = WALLET_PAGE
) -> list[Coupon]:
    """One page of a wallet tab (page 1 first); the tab's count from `wallet_counts` gives the
    number of pages."""
    now = now or timezone.now()
    order = ("valid_to", "id") if tab in ("usable", "unusable") else ("-valid_to", "-id")
    start = (max(1, page) - 1) * per_page
    return list(
        Coupon.objects.filter(member=member)
        .filter(tab_q(tab, store, now))
        .select_related("rule", "campaign")
        .order_by(*order)[start : start + per_page]
    )


def issuing_rules() -> QuerySet[CouponRule]:
    """Rules that may issue coupons today: approved, enabled, not invalidated, still valid."""
    today = timezone.localdate()
    return CouponRule.objects.filter(
        status=CouponRule.Status.APPROVED, is_disabled=False, is_invalidated=False
    ).filter(Q(validity_type=CouponRule.ValidityType.DAYS) | Q(valid_until__gte=today))


def rules_usable_at(store: Org) -> QuerySet[CouponRule]:
    return CouponRule.objects.filter(
        Exists(
            CouponRule.usable_orgs.through.objects.filter(
                couponrule_id=OuterRef("pk"), org_id__in=store_ancestor_ids(store)
            )
        )
    )


def rule_list() -> QuerySet[CouponRule]:
    return CouponRule.objects.select_related(
        "creating_org", "created_by", "approved_by", "exchange_product"
    )


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("rule")


def coupons_of_rule(rule: CouponRule) -> QuerySet[Coupon]:
    return (
        Coupon.objects.filter(rule=rule)
        .select_related("member", "store", "campaign")
        .order_by("number", "id")
    )


def coupon_list() -> QuerySet[Coupon]:
    return Coupon.objects.select_related("rule", "member", "store", "campaign").order_by("-id")


def _coupon_count(**where) -> Coalesce:
    coupons = (
        Coupon.objects.filter(rule=OuterRef("pk"), **where)
        .order_by()
        .values("rule")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(coupons[:1]), Value(0))


def activation_rules() -> QuerySet[CouponRule]:
    """Physical rules sold at the counter, each with its activated and not activated counts."""
    return (
        CouponRule.objects.filter(
            medium=CouponRule.Medium.PHYSICAL, needs_activation=True, generated_count__gt=0
        )
        .annotate(
            activated_count=_coupon_count(activated=True),
            not_activated_count=_coupon_count(activated=False),
        )
        .order_by("-pk")
    )


def rules_for_member_action(action: str, store: Org | None = None) -> QuerySet[CouponRule]:
    """Rules a clerk or operator may offer a member on the member page: 领券 (free), 购券 (with a
    sale price) or U享兑换 (U-value price); usable at `store` when one is given. The issuing
    service still checks everything (deadline, limit, stock) and says why it refuses."""
    rules = issuing_rules().filter(medium=CouponRule.Medium.ELECTRONIC)
    if action == "exchange":
        rules = rules.filter(kind=CouponRule.Kind.U_VALUE_EXCHANGE, u_value_price__isnull=False)
    else:
        rules = rules.exclude(kind=CouponRule.Kind.U_VALUE_EXCHANGE).filter(
            sale_price__isnull=action == "claim"
        )
    if store is not None:
        rules = rules.filter(pk__in=rules_usable_at(store).values("pk"))
    return rules.order_by("name", "pk")


def member_coupons(member: Member, limit: int = 200) -> QuerySet[Coupon]:
    """Every coupon of a member, whatever its status, newest first."""
    return (
        Coupon.objects.filter(member=member)
        .select_related("rule", "campaign", "used_store")
        .order_by("-obtained_at", "-id")[:limit]
    )


def coupons_for(user, query: dict) -> QuerySet[Coupon]:
    """The coupon list (page and export): the user's scope, then the page's filters."""
    qs = scoped(user, "coupons.view", coupon_list(), "rule__creating_org")
    return CouponFilter(query, queryset=qs).qs
