"""Checkout (SPEC.md §10): validate a code against an order, record its use, cancel the use."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.events import record_event
from couponhub.core.models import Org
from couponhub.core.money import ZERO, to_money
from couponhub.core.order_discounts import Kind as DiscountKind
from couponhub.core.order_discounts import (
    claim_order_discount,
    lock_order,
    release_order_discount,
)
from products.selectors import categories_of_skus, category_keys
from promocodes import discounts
from promocodes.models import (
    DepartmentBudget,
    PromoCode,
    PromoCodeApplication,
    PromoCodeUse,
    Subject,
    UserLevel,
)
from promocodes.services.budgets import budget_for

Status = PromoCodeApplication.Status


@dataclass(frozen=True)
class Item:
    sku: str
    amount: Decimal
    merchant: str = ""
    category: str = ""
    sale_type: str = "normal"


@dataclass(frozen=True)
class Checkout:
    code: str
    user_id: str
    items: tuple[Item, ...]
    is_new_user: bool = False
    is_new_online_user: bool | None = None
    platform: str = ""
    delivery: str = ""
    store_code: str = ""
    coupon_applied: bool = False


@dataclass(frozen=True)
class Quote:
    promo_code: PromoCode
    discount: Decimal
    eligible_amount: Decimal
    budget: DepartmentBudget | None


def _refuse(code: str, message: str, status: int = 400):
    raise Refused(code, message, status)


def _check_window(application: PromoCodeApplication, now) -> None:
    if application.status == Status.INVALIDATED:
        _refuse("promo_code_invalidated", "优惠码已失效，不能使用")
    if application.status != Status.APPROVED:
        _refuse("promo_code_not_approved", "优惠码未审核通过，不能使用")
    if now < application.valid_from:
        local = timezone.localtime(application.valid_from)
        _refuse("promo_code_not_active", f"优惠码尚未生效，{local:%Y-%m-%d %H:%M}起可用")
    if now >= application.valid_to:
        _refuse("promo_code_expired", "优惠码已过期，不能使用")


def _check_order(application: PromoCodeApplication, checkout: Checkout) -> None:
    if application.platform != "any" and checkout.platform != application.platform:
        _refuse(
            "platform_not_allowed",
            f"该优惠码仅限{application.get_platform_display()}使用",
        )
    if application.delivery != "any" and checkout.delivery != application.delivery:
        _refuse(
            "delivery_not_allowed",
            f"该优惠码仅限{application.get_delivery_display()}订单使用",
        )
    store_codes = getattr(application, "checkout_store_codes", None)
    if store_codes is None:
        store_codes = [s.code for s in application.stores.all()]
    if store_codes and checkout.store_code not in store_codes:
        _refuse("store_not_allowed", "该优惠码不能在本门店使用")
    if application.user_level == UserLevel.NEW_USER_FIRST and not checkout.is_new_user:
        _refuse("new_user_only", "该优惠码仅限新用户首单使用")
    if application.user_level == UserLevel.NEW_ONLINE_USER_FIRST:
        online_new = (
            checkout.is_new_user
            if checkout.is_new_online_user is None
            else checkout.is_new_online_user
        )
        if not online_new or checkout.platform not in {"m", "app"}:
            _refuse("new_online_user_only", "该优惠码仅限线上新用户首单使用")


def eligible_amount(application: PromoCodeApplication, items) -> Decimal:
    """Sum of the items matching the code's merchant, category and sales-type restrictions."""
    matching = list(items)
    if application.merchant_id:
        merchant_code = application.merchant.code
        matching = [i for i in matching if i.merchant == merchant_code]
        if not matching:
            _refuse(
                "merchant_not_allowed", f"该优惠码仅限商家“{application.merchant.name}”的商品使用"
            )
    if application.category_id:  # the master's category or one under it, by code or name
        keys = category_keys([application.category_id])[application.category_id]
        known = categories_of_skus({i.sku for i in matching if not i.category})
        matching = [i for i in matching if (i.category or known.get(i.sku)) in keys]
    if application.sale_type != "any":
        matching = [i for i in matching if i.sale_type == application.sale_type]
    total = to_money(sum((i.amount for i in matching), ZERO))
    if not matching or total <= 0:
        _refuse("no_eligible_items", "订单中没有可使用该优惠码的商品")
    return total


def _quote(promo_code: PromoCode, checkout: Checkout, *, now) -> Quote:
    """Every rule against the order, on the rows `_find_code` read: nothing is locked here; a use
    re-checks the count and the budget in its conditional UPDATEs (see use_promo_code)."""
    application = promo_code.application
    if checkout.coupon_applied:
        _refuse("coupon_already_applied", "已使用优惠券，优惠码与优惠券不可叠加使用")
    _check_window(application, now)
    _check_order(application, checkout)
    eligible = eligible_amount(application, checkout.items)
    try:
        discount = discounts.compute_discount(application.rule, eligible)
    except discounts.BelowFloor as exc:
        _refuse(
            "below_floor",
            f"不满足优惠码使用条件：可优惠商品金额满{to_money(exc.needed)}元可用，"
            f"当前为{eligible}元",
        )
    if promo_code.max_uses and promo_code.uses_count >= promo_code.max_uses:
        _refuse("uses_exhausted", "优惠码使用次数已用完", 409)
    if application.per_user_limit:
        used = getattr(promo_code, "user_uses", None)
        if used is None:
            used = _user_uses(application.pk, checkout.user_id).count()
        if used >= application.per_user_limit:
            _refuse(
                "per_user_limit_reached",
                f"每位用户最多使用该优惠码{application.per_user_limit}次，您已用完",
                409,
            )
    budget = None
    if application.subject == Subject.PLATFORM:
        budget = _read_budget(promo_code, application, now)
        if budget is None or budget.remaining < discount:
            _refuse("budget_exhausted", "优惠码活动预算已用完，暂不能使用", 409)
    return Quote(promo_code, discount, eligible, budget)


def _user_uses(application_id: int, user_id: str):
    return PromoCodeUse.objects.filter(
        code__application_id=application_id, user_id=user_id, cancelled_at__isnull=True
    )


BUDGET_FIELDS = ["id", "department_id", "amount", "spent"]


def _read_budget(promo_code: PromoCode, application, now) -> DepartmentBudget | None:
    if not hasattr(promo_code, "budget_id"):
        return budget_for(application.department_id, timezone.localdate(now))
    if promo_code.budget_id is None:
        return None
    # the row `_find_code` read in its own query (its other fields load if ever asked for)
    values = [
        promo_code.budget_id,
        application.department_id,
        promo_code.budget_amount,
        promo_code.budget_spent,
    ]
    return DepartmentBudget.from_db(connection.alias, BUDGET_FIELDS, values)


def _table(model) -> str:
    return model._meta.db_table


# What a quote reads besides the code's row, as subqueries of the code's query. Written as SQL on
# purpose: the same subqueries as ORM expressions cost ~2 ms of compiling per call (most of a
# validate's CPU), these cost nothing to compile. Each is an index lookup.
_CODE = _table(PromoCode)
_APPLICATION_DEPARTMENT = (
    f"(SELECT a.department_id FROM {_table(PromoCodeApplication)} a "
    f"WHERE a.id = {_CODE}.application_id)"
)
_STORE_CODES = (
    f"ARRAY(SELECT o.code FROM {_table(PromoCodeApplication.stores.through)} s "
    f"JOIN {_table(Org)} o ON o.id = s.org_id "
    f"WHERE s.promocodeapplication_id = {_CODE}.application_id)"
)
_USER_USES = (
    f"SELECT count(*) FROM {_table(PromoCodeUse)} u JOIN {_CODE} c ON c.id = u.code_id "
    f"WHERE c.application_id = {_CODE}.application_id AND u.user_id = %s "
    "AND u.cancelled_at IS NULL"
)
_STORE = f"SELECT o.id FROM {_table(Org)} o WHERE o.code = %s AND o.kind = %s"
_BUDGET = (
    "SELECT b.{column} FROM " + _table(DepartmentBudget) + " b "
    f"WHERE b.department_id = {_APPLICATION_DEPARTMENT} "
    "AND b.period_start <= %s AND b.period_end >= %s ORDER BY b.id LIMIT 1"
)


def _find_code(code: str, *, user_id: str, day, store_code: str = "") -> PromoCode:
    """The code, its application (merchant, category) and, in the same query, all a quote reads:
    the application's store codes, the user's live uses of it and the department's budget for
    `day`, and the id of the order's store — one round trip instead of five (each query costs
    more in Python and in waiting than in PostgreSQL)."""
    matching = (
        PromoCode.objects.select_related(
            "application", "application__merchant", "application__category"
        )
        .annotate(
            store_codes=RawSQL(_STORE_CODES, []),
            user_uses=RawSQL(_USER_USES, [user_id]),
            budget_id=RawSQL(_BUDGET.format(column="id"), [day, day]),
            budget_amount=RawSQL(_BUDGET.format(column="amount"), [day, day]),
            budget_spent=RawSQL(_BUDGET.format(column="spent"), [day, day]),
            checkout_store_id=RawSQL(_STORE, [store_code, Org.Kind.STORE.value]),
        )
        .filter(code=code.strip().upper())
        .order_by()  # unique: no ORDER BY (its compiling hashes every annotation, ~0.3 ms)
    )
    promo_code = next(iter(matching[:1]), None)
    if promo_code is None:
        _refuse("promo_code_not_found", "优惠码不存在", 404)
    promo_code.application.checkout_store_codes = promo_code.store_codes
    # the order's store (the use's and the audit entry's org): its id, and the code it was
    # found by (its other fields load if ever asked for)
    promo_code.checkout_store = (
        Org.from_db(connection.alias, ["id", "code"], [promo_code.checkout_store_id, store_code])
        if promo_code.checkout_store_id
        else None
    )
    return promo_code


def validate_promo_code(*, checkout: Checkout) -> Quote:
    """结算页输入优惠码: the discount and eligible amount, or PromoCodeRefused with the reason."""
    now = timezone.now()
    promo_code = _find_code(checkout.code, user_id=checkout.user_id, day=timezone.localdate(now))
    return _quote(promo_code, checkout, now=now)


@transaction.atomic
def use_promo_code(*, checkout: Checkout, order_no: str, client_key: str = "") -> PromoCodeUse:
    """Record a use at order creation: counted, limited and charged in one transaction.
    Order numbers are the calling client's own; one live promo code per order.

    Lock waits stay short on a hot code or a hot budget: everything is read and checked without
    a lock on them, the use and its audit entry are written, and only then the two shared rows
    are touched, by one statement that counts and charges (code before budget), right before
    the COMMIT (`_count_and_charge`): a row lock lasts that statement and the commit, never any
    Python work. (Its holder waiting for the GIL behind other threads was the hot code's tail
    in #17: the web runs one request per process, gunicorn.conf.py.)"""
    if not order_no.strip():
        _refuse("invalid_request", "order_no 不能为空")
    now = timezone.now()
    promo_code = _find_code(
        checkout.code,
        user_id=checkout.user_id,
        day=timezone.localdate(now),
        store_code=checkout.store_code,
    )
    application = promo_code.application
    if application.per_user_limit:
        # every code of the application shares the per-user count: uses by one user of one
        # application are serialised (other users never wait), then counted afresh
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"promocodes.per_user:{application.pk}:{checkout.user_id}"],
            )
        promo_code.user_uses = None
    quote = _quote(promo_code, checkout, now=now)
    # a promo code doesn't stack with coupons redeemed against the order (either direction);
    # the claim locks the order, so this order's earlier uses are read after any concurrent
    # use of it committed, and the one-live-use-per-order constraint is never met here
    claim_order_discount(
        client_key=client_key, order_no=order_no, kind=DiscountKind.PROMO_CODE, ref=promo_code.code
    )
    _check_order_no(promo_code, client_key, order_no)
    store = promo_code.checkout_store
    merchant = None if application.subject == Subject.PLATFORM else application.merchant
    use = PromoCodeUse.objects.create(
        code=promo_code,
        user_id=checkout.user_id,
        order_no=order_no,
        store=store,
        client_key=client_key,
        discount=quote.discount,
        eligible_amount=quote.eligible_amount,
        charged_budget=quote.budget,
        charged_merchant=merchant,
        used_at=now,
    )
    record_audit(
        actor=f"api:{client_key}" if client_key else "api",
        action="promocodes.use",
        obj=use,
        org=store,
        after=snapshot(use, ["code_id", "user_id", "order_no", "discount", "eligible_amount"]),
    )
    record_event(
        "promo_code.used",
        {
            "code": promo_code.code,
            "order_no": order_no,
            "store": store.code if store else None,
            "discount": use.discount,
        },
        org=store,
    )
    # the shared rows, last
    _count_and_charge(promo_code.pk, quote.budget.pk if quote.budget else None, quote.discount)
    promo_code.uses_count += 1
    return use


# The code's count and the budget's charge as one statement, code first: the budget's UPDATE
# joins the code's, so a budget row is reached (and locked) only once the code's row is, the
# order cancel keeps too (no deadlock). Neither UPDATE has a condition: the tables' CHECK
# constraints refuse a use past max_uses and a charge past the budget (`_REFUSALS`), so the
# statement either counts and charges or fails.
_COUNT = f"UPDATE {_table(PromoCode)} SET uses_count = uses_count + 1 WHERE id = %s"
_COUNT_AND_CHARGE = (
    f"WITH counted AS ({_COUNT} RETURNING id) "
    f"UPDATE {_table(DepartmentBudget)} b SET spent = b.spent + %s FROM counted WHERE b.id = %s"
)
_REFUSALS = {
    "promo_code_uses_lte_max": ("uses_exhausted", "优惠码使用次数已用完"),
    "promo_budget_spent_lte_amount": ("budget_exhausted", "优惠码活动预算已用完，暂不能使用"),
}


def _count_and_charge(code_id: int, budget_id: int | None, discount: Decimal) -> None:
    """Count one use on the code and charge the budget (if any), refused by the constraints
    when no use or money is left."""
    sql, params = (
        (_COUNT, [code_id])
        if budget_id is None
        else (_COUNT_AND_CHARGE, [code_id, discount, budget_id])
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError as exc:
        refusal = _REFUSALS.get(
            getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "")
        )
        if refusal is None:
            raise
        _refuse(*refusal, 409)


def _check_order_no(promo_code: PromoCode, client_key: str, order_no: str) -> None:
    """One live promo code per order, and a cancelled use is not used again (one query)."""
    uses = list(
        PromoCodeUse.objects.filter(client_key=client_key, order_no=order_no).values_list(
            "code_id", "cancelled_at"
        )
    )
    if any(code_id == promo_code.pk and cancelled is None for code_id, cancelled in uses):
        _refuse("order_already_used", f"订单{order_no}已使用该优惠码", 409)
    if any(cancelled is None for _code_id, cancelled in uses):
        _refuse_second_code(order_no)
    if any(code_id == promo_code.pk for code_id, _cancelled in uses):
        _refuse("order_cancelled", f"订单{order_no}已取消，不能再次使用该优惠码", 409)


def _refuse_second_code(order_no: str):
    _refuse("order_has_promo_code", f"订单{order_no}已使用其他优惠码，优惠码不可叠加使用", 409)


@transaction.atomic
def cancel_promo_use(*, order_no: str, code: str = "", client_key: str = "") -> list[PromoCodeUse]:
    """Order cancelled: each of its uses is given back once (count and charged amount). Only
    the client that used a code on its order can cancel it: another client's order number is
    not found."""
    lock_order(client_key, order_no)  # before the rows (see lock_order)
    uses = (
        PromoCodeUse.objects.select_for_update(of=("self",))
        .select_related("code")
        .filter(client_key=client_key, order_no=order_no)
        .order_by("pk")
    )
    if code:
        uses = uses.filter(code__code=code.strip().upper())
    uses = list(uses)
    if not uses:
        _refuse("promo_use_not_found", f"订单{order_no}没有使用优惠码", 404)
    now = timezone.now()
    cancelled = []
    for use in uses:
        if use.cancelled_at is not None:
            continue
        PromoCodeUse.objects.filter(pk=use.pk).update(cancelled_at=now)
        PromoCode.objects.filter(pk=use.code_id).update(uses_count=F("uses_count") - 1)
        if use.charged_budget_id:
            DepartmentBudget.objects.filter(pk=use.charged_budget_id).update(
                spent=F("spent") - use.discount
            )
        use.cancelled_at = now
        release_order_discount(
            client_key=client_key,
            order_no=order_no,
            kind=DiscountKind.PROMO_CODE,
            ref=use.code.code,
        )
        record_audit(
            actor=f"api:{client_key}" if client_key else "api",
            action="promocodes.cancel_use",
            obj=use,
            org=None,
            after={"order_no": order_no, "discount": use.discount},
        )
        record_event(
            "promo_code.cancelled",
            {"code": use.code.code, "order_no": order_no, "discount": use.discount},
        )
        cancelled.append(use)
    if not cancelled:
        _refuse("use_already_cancelled", f"订单{order_no}的优惠码已退回，不能重复取消", 409)
    return cancelled
