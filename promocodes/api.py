"""Promo-code endpoints of the signed API (SPEC.md §10): validate, use, cancel."""

from decimal import Decimal
from typing import Literal

from ninja import Field, Router, Schema
from pydantic import StrictBool

from couponhub.core.idempotency import idempotent
from promocodes import services
from promocodes.services import Checkout, Item

router = Router(tags=["promocodes"])


class ItemIn(Schema):
    sku: str = Field(..., max_length=64)
    merchant: str = Field("", max_length=30, description="merchant code")
    category: str = Field("", max_length=30, description="category code")
    sale_type: Literal["normal", "presale"] = "normal"
    amount: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)


class ValidateIn(Schema):
    code: str = Field(..., min_length=1, max_length=32)
    user_id: str = Field(..., min_length=1, max_length=64)
    is_new_user: StrictBool = False
    is_new_online_user: StrictBool | None = Field(
        None,
        description="for codes limited to a new online user's first order; default is_new_user",
    )
    platform: Literal["m", "app"] = Field(..., description="m: M page (H5); app")
    delivery: Literal["pickup", "delivery"]
    store_code: str = Field("", max_length=30)
    coupon_applied: StrictBool = False
    items: list[ItemIn] = Field(..., min_length=1, max_length=500)


class UseIn(ValidateIn):
    order_no: str = Field(..., min_length=1, max_length=64)


class CancelIn(Schema):
    order_no: str = Field(..., min_length=1, max_length=64)
    code: str = Field("", max_length=32, description="only this code's use (default: all)")


class QuoteOut(Schema):
    code: str
    activity_name: str
    rule: str
    subject: str
    discount: str
    eligible_amount: str


class UseOut(QuoteOut):
    order_no: str
    use_id: int
    uses_count: int


class CancelOut(Schema):
    order_no: str
    cancelled: list[str]
    discount_returned: str


def _checkout(payload: ValidateIn) -> Checkout:
    return Checkout(
        code=payload.code,
        user_id=payload.user_id,
        is_new_user=payload.is_new_user,
        is_new_online_user=payload.is_new_online_user,
        platform=payload.platform,
        delivery=payload.delivery,
        store_code=payload.store_code,
        coupon_applied=payload.coupon_applied,
        items=tuple(
            Item(
                sku=i.sku,
                merchant=i.merchant,
                category=i.category,
                sale_type=i.sale_type,
                amount=i.amount,
            )
            for i in payload.items
        ),
    )


def _quote_body(promo_code, discount, eligible) -> dict:
    application = promo_code.application
    return {
        "code": promo_code.code,
        "activity_name": application.activity_name,
        "rule": application.rule_text,
        "subject": application.subject,
        "discount": str(discount),
        "eligible_amount": str(eligible),
    }


ERRORS = {400: dict, 404: dict, 409: dict}


@router.post(
    "/promocodes/validate",
    response={200: QuoteOut, **ERRORS},
    summary="Check a promo code against an order: the discount and eligible amount, or why not",
)
def validate(request, payload: ValidateIn):
    quote = services.validate_promo_code(checkout=_checkout(payload))
    return _quote_body(quote.promo_code, quote.discount, quote.eligible_amount)


@router.post(
    "/promocodes/use",
    response={200: UseOut, **ERRORS},
    summary="Record a use when the order is created (atomic; Idempotency-Key honoured)",
)
@idempotent
def use(request, payload: UseIn):
    record = services.use_promo_code(
        checkout=_checkout(payload), order_no=payload.order_no, client_key=request.auth.client_id
    )
    return {
        **_quote_body(record.code, record.discount, record.eligible_amount),
        "order_no": record.order_no,
        "use_id": record.pk,
        "uses_count": record.code.uses_count,
    }


@router.post(
    "/promocodes/cancel",
    response={200: CancelOut, **ERRORS},
    summary="The order was cancelled: give its promo-code use back (once)",
)
@idempotent
def cancel(request, payload: CancelIn):
    uses = services.cancel_promo_use(
        order_no=payload.order_no, code=payload.code, client_key=request.auth.client_id
    )
    return {
        "order_no": payload.order_no,
        "cancelled": [u.code.code for u in uses],
        "discount_returned": str(sum((u.discount for u in uses), Decimal("0.00"))),
    }
