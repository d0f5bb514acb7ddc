"""Redeem (核销) 1–20 coupons at a store, all or nothing.

Redeeming is one transaction: the selected coupons are read and locked (SELECT … FOR UPDATE) in
primary-key order, so two overlapping redemptions never deadlock, and checked on their current
rows; then one conditional UPDATE whose WHERE is `Coupon.redeemable_q(store)` (usable here, right
now) turns them all ``unused → used``. If it touches fewer rows than selected, a coupon stopped
being usable: the transaction rolls back and the refusal names that coupon and why. Of many
clerks or tills redeeming one coupon exactly one succeeds: the others wait on the row lock and
then read it used.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.events import record_event
from couponhub.core.models import Org
from couponhub.core.money import to_money
from couponhub.core.order_discounts import Kind as DiscountKind
from couponhub.core.order_discounts import claim_order_discount
from coupons.models import RECHARGE_MAX_LEN, RECHARGE_MIN_LEN, Coupon, CouponRule
from members import services as member_services
from members.models import Member, MemberOrder
from products import selectors as product_selectors
from redemption.models import MAX_COUPONS, Redemption, RedemptionLine
from redemption.services._common import client_label, order_discount_key

Status = Coupon.Status


@dataclass(frozen=True)
class Item:
    sku: str
    amount: Decimal
    category: str = ""
    qty: Decimal = field(default=Decimal("1"))


# --- refusal reasons ------------------------------------------------------------------------------

STATUS_CODES = {
    Status.USED: "coupon_used",
    Status.EXPIRED: "coupon_expired",
    Status.FROZEN: "coupon_frozen",
    Status.VOIDED: "coupon_voided",
    Status.GENERATED: "coupon_not_active",
    Status.RECEIVED: "coupon_not_active",
}


def refusal_for(coupon: Coupon, store: Org, now=None) -> Refused | None:
    """Why `coupon` cannot be redeemed at `store` now, as a refusal naming the coupon."""
    now = now or timezone.now()
    reason = coupon.unusable_reason(store, now)
    if reason is None:
        return None
    status = coupon.effective_status(now)
    if status in STATUS_CODES:
        code = STATUS_CODES[status]
    elif not coupon.activated:
        code = "coupon_not_activated"
    elif coupon.valid_from and coupon.valid_from > now:
        code = "coupon_not_active"
    else:
        code = "store_not_allowed"
    return Refused(code, f"券{coupon.code}：{reason}", coupon_code=coupon.code, status=409)


def order_items(order: MemberOrder) -> list[Item]:
    """The items of a stored POS order, as the fit check reads them."""
    return [
        Item(sku=i.sku, amount=i.amount, category=i.category, qty=i.qty) for i in order.items.all()
    ]


def _excluded_keys(rules: Sequence[CouponRule]) -> dict[int, set[str]]:
    """{rule id: the codes and names of its 不适用食品类别 and of their sub-categories}, in two
    queries for all the rules (an item's category is the code or, from some tills, the name)."""
    through = CouponRule.excluded_categories.through
    pairs = list(
        through.objects.filter(couponrule_id__in={r.pk for r in rules}).values_list(
            "couponrule_id", "category_id"
        )
    )
    if not pairs:
        return {}
    keys = product_selectors.category_keys({category for _rule, category in pairs})
    excluded: dict[int, set[str]] = {}
    for rule_id, category_id in pairs:
        excluded.setdefault(rule_id, set()).update(keys.get(category_id, ()))
    return excluded


def _with_categories(items: Sequence[Item]) -> list[Item]:
    """An item the till sent without a category takes its food's category from the master; an
    unknown SKU stays as sent (the till is the truth of what was sold)."""
    missing = {i.sku for i in items if not i.category}
    known = product_selectors.categories_of_skus(missing)
    return [
        replace(i, category=known[i.sku]) if not i.category and i.sku in known else i for i in items
    ]


def check_order_fit(
    coupons: Sequence[Coupon],
    *,
    items: Sequence[Item] | None = None,
    order: MemberOrder | None = None,
    verdict: str = "不能使用",
) -> None:
    """Refuse when one of `coupons` does not fit the order: its threshold (满300可用) on the
    order's eligible amount (its items less the rule's 不适用食品类别 and their sub-categories),
    and a 食品券's food among the items. The order is `items` (sent by the till) or a stored
    `order`; an order stored without item lines is measured by its total, and a product coupon
    cannot be checked against it, so it is refused. The refusal names the coupon and, for a
    threshold, the shortfall; `verdict` ends the sentence (不能使用, 不能关联该订单)."""
    if items is None:
        if order is None:
            return
        items = order_items(order)
    total = None if items or order is None else order.total
    skus = {i.sku for i in items}
    measured = [c.rule for c in coupons if c.rule.min_order_amount and c.rule.min_order_amount > 0]
    excluded = _excluded_keys(measured) if measured and total is None else {}
    if excluded:
        items = _with_categories(items)
    for coupon in coupons:
        rule = coupon.rule
        product = rule.exchange_product if rule.exchange_product_id else None
        if rule.benefit == CouponRule.Benefit.PRODUCT and product and product.sku not in skus:
            raise Refused(
                "product_not_in_order",
                f"券{coupon.code}：订单中没有券对应的食品【{product.name}】，{verdict}",
                coupon_code=coupon.code,
                status=409,
            )
        if rule.min_order_amount and rule.min_order_amount > 0:
            if total is not None:
                eligible = total
            else:
                keys = excluded.get(rule.pk, set())
                eligible = sum(
                    (i.amount for i in items if not (i.category and i.category in keys)),
                    Decimal("0"),
                )
            if eligible < rule.min_order_amount:
                short = to_money(rule.min_order_amount - eligible)
                raise Refused(
                    "below_threshold",
                    f"券{coupon.code}：订单可用金额{to_money(eligible)}元未满"
                    f"{to_money(rule.min_order_amount)}元，还差{short}元，{verdict}",
                    coupon_code=coupon.code,
                    status=409,
                )


def _new_redemption_no(now) -> str:
    # Ten random digits: at hundreds of redemptions a second a clash stays one in millions.
    return f"HX{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


# --- redeem ---------------------------------------------------------------------------------------


def _selection(keys: Sequence) -> list:
    """The distinct codes (or ids) asked for, in their order: 1 to MAX_COUPONS of them."""
    selection = list(dict.fromkeys(keys))
    if not selection:
        raise Refused("no_coupons", "请选择要核销的优惠券", status=400)
    if len(selection) > MAX_COUPONS:
        raise Refused(
            "too_many_coupons",
            f"一次最多核销{MAX_COUPONS}张优惠券，已选{len(selection)}张",
            status=400,
        )
    return selection


def is_recharge_number(key) -> bool:
    """A 充值券 is also used by its 15–20-digit number (POS, WeChat, the counter)."""
    return (
        isinstance(key, str) and key.isdigit() and RECHARGE_MIN_LEN <= len(key) <= RECHARGE_MAX_LEN
    )


# SQL rather than an ORM subquery: nothing to compile per call (see promocodes' checkout)
_USABLE_ORG_IDS = (
    f"ARRAY(SELECT u.org_id FROM {CouponRule.usable_orgs.through._meta.db_table} u "
    f"WHERE u.couponrule_id = {Coupon._meta.db_table}.rule_id)"
)


def _load_coupons(selection: list, *, by_code: bool) -> list[Coupon]:
    """The selected coupons, locked in primary-key order, with their rule, holder and the ids of
    the rule's usable organisations (one query); every one must exist. By code, a 15–20-digit key
    also finds a recharge coupon by its number."""
    if by_code:
        numbers = [s for s in selection if is_recharge_number(s)]
        lookup = (
            Q(code__in=selection) | Q(recharge_no__in=numbers) if numbers else Q(code__in=selection)
        )
    else:
        lookup = Q(pk__in=selection)
    coupons = list(
        Coupon.objects.filter(lookup)
        .select_related("rule__exchange_product", "member")
        .annotate(usable_org_ids=RawSQL(_USABLE_ORG_IDS, []))
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if by_code:
        found = {c.code for c in coupons} | {c.recharge_no for c in coupons if c.recharge_no}
    else:
        found = {c.pk for c in coupons}
    missing = [s for s in selection if s not in found]
    if missing:
        raise Refused(
            "coupon_not_found",
            f"券{missing[0]}：券码不存在",
            coupon_code=str(missing[0]),
            status=404,
        )
    return coupons


def _check_usable(coupons: list[Coupon], *, store: Org, member: Member | None, now) -> None:
    """Every coupon is the member's (when a member is given) and usable at `store` now."""
    if member is not None:
        for coupon in coupons:
            bearer_recharge = (
                coupon.member_id is None and coupon.rule.benefit == CouponRule.Benefit.RECHARGE
            )
            if coupon.member_id != member.pk and not bearer_recharge:
                raise Refused(
                    "coupon_not_members",
                    f"券{coupon.code}：不属于会员{member.name or member.member_no}",
                    coupon_code=coupon.code,
                    status=409,
                )
    for coupon in coupons:
        refusal = refusal_for(coupon, store, now)
        if refusal:
            raise refusal


def _mark_used(coupons: list[Coupon], *, store: Org, now) -> None:
    """`unused → used`, one conditional UPDATE for all (their rows are locked and were checked);
    refused, naming the coupon, if one is not redeemable after all."""
    updated = (
        Coupon.objects.filter(pk__in=[c.pk for c in coupons])
        .filter(Coupon.redeemable_q(store, now))
        .update(status=Status.USED, used_at=now, used_store=store)
    )
    if updated != len(coupons):
        for coupon in coupons:
            coupon.refresh_from_db()
            refusal = refusal_for(coupon, store, now)
            if refusal:
                raise refusal
        raise Refused("coupon_used", "券已被核销，请刷新后重试", status=409)
    for coupon in coupons:
        coupon.status, coupon.used_at, coupon.used_store = Status.USED, now, store


def _create_redemption(
    *,
    coupons: list[Coupon],
    store: Org,
    member: Member | None,
    actor,
    api_client,
    app: str,
    method: str,
    order: MemberOrder | None,
    order_no: str,
    now,
) -> Redemption:
    """The Redemption and one line per coupon."""
    redemption = Redemption.objects.create(
        redemption_no=_new_redemption_no(now),
        store=store,
        member=member,
        clerk=actor,
        api_client=api_client,
        app=app[:60],
        method=method,
        order=order,
        order_no=order.order_no if order else order_no,
        created_at=now,
    )
    try:  # no savepoint needed: the refusal leaves the block at once and rolls it all back
        RedemptionLine.objects.bulk_create(
            RedemptionLine(redemption=redemption, coupon=c) for c in coupons
        )
    except IntegrityError:  # a live line already holds one of these coupons
        raise Refused("coupon_used", "券已被核销，请刷新后重试", status=409) from None
    return redemption


def redeem_coupons(
    *,
    store: Org,
    codes: Sequence[str] = (),
    coupon_ids: Sequence[int] = (),
    app: str,
    method: str,
    actor=None,
    api_client=None,
    member: Member | None = None,
    order: MemberOrder | None = None,
    order_no: str = "",
    items: Sequence[Item] | None = None,
) -> Redemption:
    """Redeem 1–20 coupons at `store`, all or nothing; returns the Redemption.

    Select by `codes` (till, API) or `coupon_ids` (counter). With `member`, every coupon must be
    that member's. With `items` (or an `order` that has items) thresholds and product coupons are
    checked against them. Recharge coupons top up the holder's stored value.
    """
    selection = _selection(codes or coupon_ids)
    if actor is None and api_client is None:
        raise ValueError("a redemption needs a clerk or an API client")
    now = timezone.now()
    with transaction.atomic():
        coupons = _load_coupons(selection, by_code=bool(codes))
        _check_usable(coupons, store=store, member=member, now=now)
        if order is not None and order.status == MemberOrder.Status.REFUNDED:
            raise Refused("order_refunded", f"订单{order.order_no}已退单，不能关联", status=409)
        check_order_fit(coupons, items=items, order=order)
        _mark_used(coupons, store=store, now=now)
        holders = {c.member_id for c in coupons}
        if member is None and len(holders) == 1 and None not in holders:
            member = coupons[0].member
        redemption = _create_redemption(
            coupons=coupons,
            store=store,
            member=member,
            actor=actor,
            api_client=api_client,
            app=app,
            method=method,
            order=order,
            order_no=order_no,
            now=now,
        )
        client_key, discounted_no = order_discount_key(
            order=order, api_client=api_client, order_no=redemption.order_no
        )
        claim_order_discount(  # coupons don't stack with a promo code on the order
            client_key=client_key,
            order_no=discounted_no,
            kind=DiscountKind.COUPON,
            ref=redemption.redemption_no,
        )
        for coupon in coupons:
            if coupon.rule.benefit == CouponRule.Benefit.RECHARGE:
                _top_up(coupon, member, store, actor, redemption)
        record_audit(
            actor=actor or client_label(api_client),
            action="redemption.redeem",
            obj=redemption,
            org=store,
            after={
                "codes": [c.code for c in coupons],
                "member": member.member_no if member else None,
                "method": method,
                "app": app,
                "order_no": redemption.order_no,
            },
        )
        record_event(
            "coupon.redeemed",
            {
                "redemption_no": redemption.redemption_no,
                "store": store.code,
                "codes": [c.code for c in coupons],
                "member": member.member_no if member else None,
                "order_no": redemption.order_no,
            },
            org=store,
        )
    redemption.redeemed_coupons = coupons
    return redemption


def _top_up(coupon: Coupon, member, store, actor, redemption) -> None:
    holder = coupon.member or member
    if holder is None:
        raise Refused(
            "member_required",
            f"券{coupon.code}：充值券未绑定会员，请提供会员卡号（card_no）或在会员查询中充值",
            coupon_code=coupon.code,
            status=409,
        )
    member_services.credit_stored_value(
        member=holder,
        amount=coupon.rule.face_value,
        reason=f"充值券核销 {coupon.code}",
        actor=actor,
        store=store,
        ref_type="redemption",
        ref_id=redemption.redemption_no,
    )


def redeem_recharge_coupon(
    *, store: Org, number: str, member: Member, actor, app: str, method: str = "scan"
) -> Redemption:
    """充值券 at the counter: the card's 15–20-digit number, presented for `member`, tops up
    their stored value once (a bound card only for its own member)."""
    number = (number or "").strip()
    if not is_recharge_number(number):
        raise Refused(
            "invalid_recharge_number",
            f"充值券号应为{RECHARGE_MIN_LEN}–{RECHARGE_MAX_LEN}位数字",
            status=400,
        )
    coupon = (
        Coupon.objects.filter(recharge_no=number).select_related("rule__exchange_product").first()
    )
    if coupon is None:
        raise Refused("coupon_not_found", f"充值券号{number}不存在", coupon_code=number, status=404)
    if coupon.rule.benefit != CouponRule.Benefit.RECHARGE:  # a number is only ever a recharge's
        raise Refused("not_recharge", f"券{coupon.code}：不是充值券", status=409)
    return redeem_coupons(
        store=store, codes=[number], member=member, actor=actor, app=app, method=method
    )
