"""Coupons and promo codes don't stack on one order (seed 004 §3.6.3, SPEC.md §8).

使用优惠码后，无法选择优惠券，只有取消使用优惠码后，才可以使用优惠券；同理，使用优惠券后也不能再使用优惠码.
The redemption side (coupons) and the promo-code side may not import each other, so both record
what they put on an order in the core's `OrderDiscount` and ask it here: `claim_order_discount`
inside the caller's transaction refuses when the other kind is live on the order, and records this
one; `release_order_discount` gives the order back when the promo use is cancelled or the last
coupon of a redemption is returned. Both serialise on the order (a transaction-scoped advisory
lock on its key), so a coupon and a promo code arriving at the same moment cannot both land.

An order is named as its caller names it: the API client's public id (`client_key`) and the
order number. The counter's orders came from a POS client, whose `MemberOrder.source` is
``api:<client id>`` (`redemption.api.order_source`).
"""

from django.db import connection
from django.utils import timezone

from couponhub.core.errors import Refused
from couponhub.core.models import OrderDiscount

Kind = OrderDiscount.Kind

_LOCK_SPACE = 11  # the advisory-lock key space of orders (pickup codes use 7)


def _lock_order(client_key: str, order_no: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))",
            [f"{client_key}\x1f{order_no}", _LOCK_SPACE],
        )


def _refusal(kind: str, order_no: str) -> Refused:
    if kind == Kind.COUPON:  # a coupon asked, a promo code is on the order
        return Refused(
            "promo_code_applied",
            f"订单{order_no}已使用优惠码，优惠券与优惠码不可叠加使用，请先取消优惠码",
            409,
        )
    return Refused(
        "coupon_already_applied",
        f"订单{order_no}已使用优惠券，优惠码与优惠券不可叠加使用，请先退券",
        409,
    )


def claim_order_discount(*, client_key: str, order_no: str, kind: str, ref: str) -> None:
    """Put a discount of `kind` on the order (inside the caller's transaction), or refuse when
    the other kind is already on it. No order number: nothing to check."""
    if not order_no:
        return
    _lock_order(client_key, order_no)
    # one statement: the row is written unless the other kind is live on the order
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM, [client_key, order_no, kind, ref, timezone.now(), client_key, order_no, kind]
        )
        claimed = cursor.rowcount
    if not claimed:
        raise _refusal(kind, order_no)


_TABLE = OrderDiscount._meta.db_table
_CLAIM = (
    f"INSERT INTO {_TABLE} (client_key, order_no, kind, ref, created_at) "
    "SELECT %s, %s, %s, %s, %s WHERE NOT EXISTS ("
    f"SELECT 1 FROM {_TABLE} WHERE client_key = %s AND order_no = %s "
    "AND released_at IS NULL AND kind <> %s)"
)


def release_order_discount(*, client_key: str, order_no: str, kind: str, ref: str) -> None:
    """The discount `ref` of `kind` left the order (promo use cancelled, coupons returned)."""
    if not order_no:
        return
    _lock_order(client_key, order_no)
    OrderDiscount.objects.filter(
        client_key=client_key, order_no=order_no, kind=kind, ref=ref, released_at__isnull=True
    ).update(released_at=timezone.now())
