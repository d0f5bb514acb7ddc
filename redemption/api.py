"""Redemption endpoints of the signed API (SPEC.md §10): orders, refunds, redeem, return, coupon
lookup, outside coupons. Thin: each calls one service and maps its refusal to an ApiError."""

import datetime
from decimal import Decimal
from typing import Annotated

from django.db.models import Q
from django.utils import timezone
from ninja import Field, Path, Router, Schema, Status

from couponhub.core.errors import Refused
from couponhub.core.idempotency import idempotent
from couponhub.core.models import Org
from couponhub.core.permissions import mask_phone
from coupons.models import Coupon
from members import services as member_services
from members.models import Member, MemberOrder
from redemption import outside, services
from redemption.models import MAX_COUPONS, Redemption
from redemption.partner_auth import ShopSignedRequest
from redemption.services import Item

router = Router(tags=["redemption"])
ERRORS = {400: dict, 403: dict, 404: dict, 409: dict}


def order_source(client) -> str:
    """Orders are unique per source; each API client is its own source."""
    return f"api:{client.client_id}"


def _client_store(client, store_code: str) -> Org:
    if store_code and store_code != client.store.code:
        raise Refused(
            "store_mismatch", f"门店编码{store_code}与客户端绑定的门店不一致，不能操作", 403
        )
    return client.store


def _money(value) -> str:
    return str(value) if value is not None else None


# --- schemas -------------------------------------------------------------------------------------


CouponCode = Annotated[str, Field(max_length=64)]
# identifiers in the path are bounded like those in bodies, so a refusal never repeats 10 KB
PathCode = Annotated[str, Path(max_length=64)]
PathOrderNo = Annotated[str, Path(max_length=40)]


class OrderItemIn(Schema):
    sku: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., max_length=100)
    category: str = Field("", max_length=50)
    qty: Decimal = Field(..., gt=0, max_digits=10, decimal_places=3)
    amount: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)


class OrderIn(Schema):
    order_no: str = Field(..., min_length=1, max_length=40)
    store_code: str = Field(..., min_length=1, max_length=30)
    member_phone: str = Field("", max_length=20)
    card_no: str = Field("", max_length=30)
    traded_at: datetime.datetime
    items: list[OrderItemIn] = Field(..., max_length=500)
    total: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)


class OrderOut(Schema):
    order_no: str
    store_code: str
    status: str
    created: bool
    member_card_no: str | None
    item_count: int
    total: str
    linked_redemptions: list[str]


class RefundOut(Schema):
    order_no: str
    status: str
    returned_codes: list[str]


class RedeemItemIn(Schema):
    sku: str = Field(..., min_length=1, max_length=40)
    category: str = Field("", max_length=50)
    qty: Decimal = Field(Decimal("1"), gt=0, max_digits=10, decimal_places=3)
    amount: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)


class RedeemIn(Schema):
    store_code: str = Field(..., min_length=1, max_length=30)
    codes: list[CouponCode] = Field(
        ...,
        min_length=1,
        description=f"1–{MAX_COUPONS} coupon codes; a 充值券 also by its 15–20-digit number",
    )
    order_no: str = Field("", max_length=40)
    items: list[RedeemItemIn] | None = Field(None, max_length=500)
    card_no: str = Field(
        "",
        max_length=30,
        description="The member presenting the coupons: every coupon must be theirs, and a "
        "recharge coupon bound to no member tops up their stored value",
    )


class CouponLineOut(Schema):
    code: str
    name: str
    benefit: str
    value: str
    status: str


class RedeemOut(Schema):
    redemption_no: str
    store_code: str
    order_no: str
    member: dict | None
    coupons: list[CouponLineOut]


class ReturnIn(Schema):
    redemption_no: str = Field("", max_length=32)
    codes: list[CouponCode] = Field(default_factory=list, max_length=MAX_COUPONS)


class ReturnOut(Schema):
    returned: list[str]


class CouponOut(Schema):
    code: str
    name: str
    rule_code: str
    status: str
    status_label: str
    benefit: str
    value: str
    face_value: str | None
    discount_rate: str | None
    min_order_amount: str
    valid_from: datetime.datetime | None
    valid_to: datetime.datetime | None
    usable_here: bool
    unusable_reason: str | None
    member: dict | None


class OutsideCouponIn(Schema):
    code: str = Field(..., min_length=1, max_length=40)
    product_id: str = Field(..., min_length=1, max_length=60)
    phone: str = Field("", max_length=20)
    sold_at: datetime.datetime | None = None


class OutsidePushIn(Schema):
    shop_id: str = Field("", max_length=60)
    coupons: list[OutsideCouponIn] = Field(..., min_length=1, max_length=500)


class OutsidePushOut(Schema):
    created: list[str]
    duplicates: list[str]


class OutsideRedeemIn(Schema):
    store_code: str = Field(..., min_length=1, max_length=30)
    code: str = Field(..., min_length=1, max_length=40)
    order_no: str = Field("", max_length=40)
    items: list[RedeemItemIn] | None = Field(None, max_length=500)


class OutsideRedeemOut(Schema):
    code: str
    activity: str
    coupon_type: str
    face_value: str
    store_code: str
    order_no: str


# --- helpers -------------------------------------------------------------------------------------


def _member_out(member: Member | None) -> dict | None:
    if member is None:
        return None
    return {
        "card_no": member.card_no,
        "name": (member.name[:1] + "*" * max(0, len(member.name) - 1)) if member.name else "",
        "phone": mask_phone(member.phone),
    }


def _line_out(coupon: Coupon) -> dict:
    return {
        "code": coupon.code,
        "name": coupon.rule.name,
        "benefit": coupon.rule.benefit,
        "value": coupon.rule.value_label(),
        "status": coupon.effective_status(),
    }


def _find_member(phone: str, card_no: str) -> Member | None:
    if not phone and not card_no:
        return None
    q = Q()
    if card_no:
        q |= Q(card_no=card_no)
    if phone:
        q |= Q(phone=phone)
    return Member.objects.filter(q).first()


def _items(items) -> list[Item] | None:
    if items is None:
        return None
    return [Item(sku=i.sku, amount=i.amount, category=i.category, qty=i.qty) for i in items]


# --- orders --------------------------------------------------------------------------------------


@router.post(
    "/orders",
    response={200: OrderOut, 201: OrderOut, **ERRORS},
    summary="Push a POS order (idempotent on order_no)",
)
@idempotent
def push_order(request, payload: OrderIn):
    client = request.auth
    store = _client_store(client, payload.store_code)
    member = _find_member(payload.member_phone, payload.card_no)
    if (payload.member_phone or payload.card_no) and member is None:
        raise Refused("member_not_found", "会员不存在：请检查手机号或会员卡号", 404)
    order, created = services.receive_order(
        actor=f"api:{client.name}",
        order_no=payload.order_no,
        store=store,
        traded_at=payload.traded_at,
        total=payload.total,
        items=[
            member_services.OrderItemData(
                sku=i.sku, name=i.name, qty=i.qty, amount=i.amount, category=i.category
            )
            for i in payload.items
        ],
        member=member,
        source=order_source(client),
    )
    body = {
        "order_no": order.order_no,
        "store_code": store.code,
        "status": order.status,
        "created": created,
        "member_card_no": order.member.card_no if order.member_id else None,
        "item_count": order.item_count,
        "total": str(order.total),
        "linked_redemptions": list(order.redemptions.values_list("redemption_no", flat=True)),
    }
    return Status(201 if created else 200, body)


@router.post(
    "/orders/{order_no}/refund",
    response={200: RefundOut, **ERRORS},
    summary="Mark an order refunded; an auto-return client's coupons on it come back",
)
@idempotent
def refund_order(request, order_no: PathOrderNo):
    client = request.auth
    order = MemberOrder.objects.filter(source=order_source(client), order_no=order_no).first()
    if order is None:
        raise Refused("order_not_found", f"订单{order_no}不存在", 404)
    lines = services.refund_order(actor=f"api:{client.name}", order=order, api_client=client)
    return {
        "order_no": order.order_no,
        "status": order.status,
        "returned_codes": [line.coupon.code for line in lines],
    }


# --- coupons -------------------------------------------------------------------------------------


@router.post(
    "/coupons/redeem",
    response={200: RedeemOut, **ERRORS},
    summary="Redeem 1–20 coupons by code at the till, all or nothing",
    description=(
        "Error codes: coupon_not_found, store_not_allowed, product_not_in_order, coupon_used, "
        "coupon_expired, coupon_frozen, coupon_voided, coupon_not_active, below_threshold, "
        "too_many_coupons, store_mismatch."
    ),
)
@idempotent
def redeem(request, payload: RedeemIn):
    client = request.auth
    store = _client_store(client, payload.store_code)
    codes = [c.strip() for c in payload.codes if c.strip()]
    if len(set(codes)) > MAX_COUPONS:
        raise Refused(
            "too_many_coupons", f"一次最多核销{MAX_COUPONS}张优惠券，已传{len(set(codes))}张"
        )
    order = None
    if payload.order_no:
        order = MemberOrder.objects.filter(
            source=order_source(client), order_no=payload.order_no
        ).first()
    member = None
    if payload.card_no:
        member = Member.objects.filter(card_no=payload.card_no).first()
        if member is None:
            raise Refused("member_not_found", f"会员卡号{payload.card_no}不存在", 404)
    redemption = services.redeem_coupons(
        member=member,
        store=store,
        codes=codes,
        app=client.name,
        method=Redemption.Method.API,
        api_client=client,
        order=order,
        order_no=payload.order_no,
        items=_items(payload.items),
    )
    return {
        "redemption_no": redemption.redemption_no,
        "store_code": store.code,
        "order_no": redemption.order_no,
        "member": _member_out(redemption.member),
        "coupons": [_line_out(c) for c in redemption.redeemed_coupons],
    }


@router.post(
    "/coupons/return",
    response={200: ReturnOut, **ERRORS},
    summary="Return coupons (退券) by redemption_no or by codes, all or nothing",
)
@idempotent
def return_coupons(request, payload: ReturnIn):
    returned = services.return_coupons(
        store=request.auth.store,
        redemption_no=payload.redemption_no,
        codes=payload.codes,
        api_client=request.auth,
    )
    return {"returned": [line.coupon.code for line in returned]}


@router.get(
    "/coupons/{code}",
    response={200: CouponOut, **ERRORS},
    summary="A coupon's status, value, validity and member (masked)",
)
def coupon_detail(request, code: PathCode):
    coupon = (
        Coupon.objects.select_related("rule__exchange_product", "member")
        .prefetch_related("rule__usable_orgs")
        .filter(code=code)
        .first()
    )
    if coupon is None:
        raise Refused("coupon_not_found", f"券{code}：券码不存在", 404)
    now = timezone.now()
    rule = coupon.rule
    reason = coupon.unusable_reason(request.auth.store, now)
    status = coupon.effective_status(now)
    return {
        "code": coupon.code,
        "name": rule.name,
        "rule_code": rule.code,
        "status": status,
        "status_label": str(Coupon.Status(status).label),
        "benefit": rule.benefit,
        "value": rule.value_label(),
        "face_value": _money(rule.face_value),
        "discount_rate": _money(rule.discount_rate),
        "min_order_amount": str(rule.min_order_amount),
        "valid_from": coupon.valid_from,
        "valid_to": coupon.valid_to,
        "usable_here": reason is None,
        "unusable_reason": reason,
        "member": _member_out(coupon.member),
    }


# --- outside coupons -----------------------------------------------------------------------------


@router.post(
    "/outside-coupons",
    auth=ShopSignedRequest(),
    response={200: OutsidePushOut, **ERRORS},
    summary="A bound partner shop pushes the outside coupons it sold (signed as the shop)",
    description=(
        "Signed like every call, but with X-Shop-Id (the shop's store id) in place of "
        "X-Client-Id and the shop's own secret; a till's client cannot push. shop_id in the "
        "body, when given, must be the signing shop's."
    ),
)
@idempotent
def push_outside_coupons(request, payload: OutsidePushIn):
    created, duplicates = outside.receive_outside_coupons(
        shop=request.auth,
        shop_id=payload.shop_id,
        coupons=[c.dict() for c in payload.coupons],
    )
    return {"created": created, "duplicates": duplicates}


@router.post(
    "/outside-coupons/redeem",
    response={200: OutsideRedeemOut, **ERRORS},
    summary="Redeem an outside coupon (scanned or typed) at the till",
    description=(
        "Errors: outside_coupon_not_found (票券不存在), product_not_in_order "
        "(订单中没有此券相关菜品,不能使用), store_not_allowed "
        "(<店名>不能使用该票券,票券【消费号<code>】不能使用!), outside_coupon_used, "
        "outside_coupon_expired, below_threshold."
    ),
)
@idempotent
def redeem_outside(request, payload: OutsideRedeemIn):
    client = request.auth
    store = _client_store(client, payload.store_code)
    items = _items(payload.items)
    if items is None and payload.order_no:
        order = MemberOrder.objects.filter(
            source=order_source(client), order_no=payload.order_no
        ).first()
        if order:
            items = [
                Item(sku=i.sku, amount=i.amount, category=i.category) for i in order.items.all()
            ]
    coupon = outside.redeem_outside_coupon(
        code=payload.code,
        store=store,
        items=items,
        order_no=payload.order_no,
        operator=f"api:{client.name}",
    )
    return {
        "code": coupon.code,
        "activity": coupon.activity.name,
        "coupon_type": coupon.activity.coupon_type,
        "face_value": str(coupon.activity.face_value),
        "store_code": store.code,
        "order_no": coupon.order_no,
    }
