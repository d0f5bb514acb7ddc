import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from couponhub.core.models import AuditEntry
from promocodes.models import DepartmentBudget, PromoCode, PromoCodeApplication, PromoCodeUse
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.factories import StoreFactory
from tests.products.factories import CategoryFactory, ProductFactory
from tests.promocodes.factories import (
    ApplicationFactory,
    BudgetFactory,
    MerchantFactory,
    PromoCodeFactory,
)

pytestmark = pytest.mark.django_db
S = PromoCodeApplication.Status
VALIDATE = "/api/v1/promocodes/validate"
USE = "/api/v1/promocodes/use"
CANCEL = "/api/v1/promocodes/cancel"


@pytest.fixture
def shop(client):
    return SignedClient(client, ApiClientFactory())


def promo(code="DEMO80", budget_amount="100000", **application):
    """An active platform code with the seed's parameters and a budget for this year."""
    app = ApplicationFactory(**application)
    BudgetFactory(department=app.department, amount=Decimal(budget_amount))
    return PromoCodeFactory(code=code, application=app)


def order(code="DEMO80", amount="100.00", **overrides):
    body = {
        "code": code,
        "user_id": "u-1",
        "is_new_user": False,
        "platform": "app",
        "delivery": "delivery",
        "store_code": "",
        "coupon_applied": False,
        "items": [{"sku": "SKU1", "merchant": "", "category": "", "amount": amount}],
    }
    body.update(overrides)
    return body


def error_code(response):
    return response.json()["error"]["code"]


def test_validate_gives_the_seed_example_discount(shop):
    promo()
    response = shop.post(VALIDATE, order(amount="55.55"))
    assert response.status_code == 200, response.content
    assert response.json()["discount"] == "11.11"
    assert response.json()["eligible_amount"] == "55.55"


def test_validate_accepts_the_code_in_lower_case(shop):
    promo()
    assert shop.post(VALIDATE, order(code="demo80", amount="30")).json()["discount"] == "6.00"


def test_validate_changes_nothing(shop):
    code = promo()
    shop.post(VALIDATE, order())
    code.refresh_from_db()
    assert code.uses_count == 0
    assert not PromoCodeUse.objects.exists()


def test_validate_requires_a_signature(client):
    promo()
    response = client.post(VALIDATE, order(), content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("setup", "overrides", "expected"),
    [
        ({}, {"code": "NOPE"}, "promo_code_not_found"),
        ({"valid_from_days": 1}, {}, "promo_code_not_active"),
        ({"valid_to_days": -1}, {}, "promo_code_expired"),
        ({"status": S.INVALIDATED}, {}, "promo_code_invalidated"),
        ({"status": S.PENDING}, {}, "promo_code_not_approved"),
        ({"platform": "m"}, {"platform": "app"}, "platform_not_allowed"),
        ({"delivery": "pickup"}, {"delivery": "delivery"}, "delivery_not_allowed"),
        ({"user_level": "new_user_first"}, {"is_new_user": False}, "new_user_only"),
        ({}, {"coupon_applied": True}, "coupon_already_applied"),
        ({}, {"items": [{"sku": "A", "amount": "19.99"}]}, "below_floor"),
        ({}, {"items": [{"sku": "A", "amount": "0"}]}, "no_eligible_items"),
        ({"sale_type": "presale"}, {}, "no_eligible_items"),
    ],
)
def test_validate_refuses_with_its_own_code_and_a_chinese_message(shop, setup, overrides, expected):
    now = timezone.now()
    fields = {}
    if "valid_from_days" in setup:
        fields["valid_from"] = now + dt.timedelta(days=setup.pop("valid_from_days"))
        fields["valid_to"] = fields["valid_from"] + dt.timedelta(days=1)
    if "valid_to_days" in setup:
        fields["valid_from"] = now - dt.timedelta(days=10)
        fields["valid_to"] = now + dt.timedelta(days=setup.pop("valid_to_days"))
    promo(**fields, **setup)
    response = shop.post(VALIDATE, order(**overrides))
    assert response.status_code in (400, 404, 409)
    assert error_code(response) == expected
    message = response.json()["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_validate_refuses_another_store(shop):
    code = promo()
    allowed, other = StoreFactory(), StoreFactory()
    code.application.stores.set([allowed])
    assert error_code(shop.post(VALIDATE, order(store_code=other.code))) == "store_not_allowed"
    assert shop.post(VALIDATE, order(store_code=allowed.code)).status_code == 200


def test_validate_counts_only_the_merchant_and_category_items(shop):
    category = CategoryFactory()
    merchant = MerchantFactory()
    promo(merchant=merchant, category=category)
    items = [
        {"sku": "A", "merchant": merchant.code, "category": category.code, "amount": "30"},
        {"sku": "B", "merchant": merchant.code, "category": "OTHER", "amount": "500"},
        {"sku": "C", "merchant": "ELSE", "category": category.code, "amount": "500"},
    ]
    body = shop.post(VALIDATE, order(items=items)).json()
    assert body["eligible_amount"] == "30.00"
    assert body["discount"] == "6.00"


def test_a_master_category_restriction_counts_its_sub_categories_and_skus_by_the_master(shop):
    """使用品类限制 on the product master: 饮品 takes 咖啡 too; an item sent without a category is
    placed by its SKU in the master; a SKU the master does not know counts for nothing."""
    drinks = CategoryFactory(code="YIN", name="饮品")
    coffee = CategoryFactory(code="KF", name="咖啡", parent=drinks)
    ProductFactory(sku="K001", name="美式咖啡", category=coffee)
    merchant = MerchantFactory()
    promo(merchant=merchant, category=drinks)
    items = [
        {"sku": "K001", "merchant": merchant.code, "category": "", "amount": "22"},
        {"sku": "K002", "merchant": merchant.code, "category": "KF", "amount": "26"},
        {"sku": "C001", "merchant": merchant.code, "category": "饮品", "amount": "16"},
        {"sku": "D001", "merchant": merchant.code, "category": "ZS", "amount": "38"},
        {"sku": "NEW", "merchant": merchant.code, "category": "", "amount": "99"},
    ]
    body = shop.post(VALIDATE, order(items=items)).json()
    assert body["eligible_amount"] == "64.00"
    only_other = [{"sku": "C", "merchant": "ELSE", "amount": "100"}]
    assert error_code(shop.post(VALIDATE, order(items=only_other))) == "merchant_not_allowed"
    wrong_category = [{"sku": "B", "merchant": merchant.code, "category": "X", "amount": "100"}]
    assert error_code(shop.post(VALIDATE, order(items=wrong_category))) == "no_eligible_items"


def test_use_records_counts_and_charges_the_department(shop):
    code = promo()
    response = shop.post(USE, order(order_no="O-1", amount="80"), idempotency_key="k1")
    assert response.status_code == 200, response.content
    assert response.json()["discount"] == "11.11"
    code.refresh_from_db()
    assert code.uses_count == 1
    budget = DepartmentBudget.objects.get(department=code.application.department)
    assert budget.spent == Decimal("11.11")
    use = PromoCodeUse.objects.get()
    assert use.charged_budget == budget and use.charged_merchant is None
    assert AuditEntry.objects.filter(action="promocodes.use").count() == 1


def test_use_of_a_merchant_code_charges_the_merchant_not_the_department(shop):
    merchant = MerchantFactory()
    code = promo(subject="merchant", merchant=merchant)
    items = [{"sku": "A", "merchant": merchant.code, "amount": "100"}]
    assert shop.post(USE, order(order_no="O-1", items=items)).status_code == 200
    use = PromoCodeUse.objects.get()
    assert use.charged_merchant == merchant and use.charged_budget is None
    assert DepartmentBudget.objects.get(department=code.application.department).spent == 0


def test_use_replays_the_first_answer_for_the_same_idempotency_key(shop):
    promo()
    first = shop.post(USE, order(order_no="O-1"), idempotency_key="same")
    again = shop.post(USE, order(order_no="O-1"), idempotency_key="same")
    assert again.status_code == 200 and again.json() == first.json()
    assert PromoCodeUse.objects.count() == 1


def test_use_refuses_the_same_order_twice(shop):
    promo()
    assert shop.post(USE, order(order_no="O-1")).status_code == 200
    assert error_code(shop.post(USE, order(order_no="O-1"))) == "order_already_used"


def test_use_refuses_when_the_uses_are_exhausted(shop):
    promo(max_uses=1)
    assert shop.post(USE, order(order_no="O-1")).status_code == 200
    response = shop.post(USE, order(order_no="O-2", user_id="u-2"))
    assert response.status_code == 409
    assert error_code(response) == "uses_exhausted"


def test_use_refuses_beyond_the_per_user_limit(shop):
    promo(per_user_limit=1)
    assert shop.post(USE, order(order_no="O-1")).status_code == 200
    assert error_code(shop.post(USE, order(order_no="O-2"))) == "per_user_limit_reached"
    assert shop.post(USE, order(order_no="O-3", user_id="u-2")).status_code == 200


def test_use_refuses_when_the_budget_cannot_cover_the_discount(shop):
    promo(budget_amount="15")
    assert shop.post(USE, order(order_no="O-1")).status_code == 200  # 11.11 of 15
    assert error_code(shop.post(USE, order(order_no="O-2"))) == "budget_exhausted"


def test_unlimited_uses_run_until_the_budget_is_spent(shop):
    # 最大使用次数 0 = N: no count limit, the department's budget still caps the money
    promo(budget_amount="30", max_uses=0)
    for n in range(2):
        assert shop.post(USE, order(order_no=f"N-{n}", user_id=f"u-{n}")).status_code == 200
    refused = shop.post(USE, order(order_no="N-3", user_id="u-3"))
    assert error_code(refused) == "budget_exhausted"
    assert DepartmentBudget.objects.get().spent == Decimal("22.22")


def test_cancel_gives_the_use_back_once(shop):
    code = promo(max_uses=1)
    shop.post(USE, order(order_no="O-1"))
    response = shop.post(CANCEL, {"order_no": "O-1"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "order_no": "O-1",
        "cancelled": ["DEMO80"],
        "discount_returned": "11.11",
    }
    code.refresh_from_db()
    assert code.uses_count == 0
    assert DepartmentBudget.objects.get().spent == 0
    again = shop.post(CANCEL, {"order_no": "O-1"})
    assert again.status_code == 409 and error_code(again) == "use_already_cancelled"
    code.refresh_from_db()
    assert code.uses_count == 0
    # the given-back use is free for another order
    assert shop.post(USE, order(order_no="O-2")).status_code == 200


def test_cancel_of_an_unknown_order_is_404(shop):
    response = shop.post(CANCEL, {"order_no": "nope"})
    assert response.status_code == 404 and error_code(response) == "promo_use_not_found"


def test_bad_input_is_a_chinese_invalid_request(shop):
    response = shop.post(VALIDATE, {"code": "X"})
    assert response.status_code == 422 and error_code(response) == "invalid_request"


# --- concurrency (PostgreSQL) --------------------------------------------------------------


def _parallel_uses(api_client, bodies, *, bodies_out=None):
    barrier = threading.Barrier(len(bodies))
    results = []
    lock = threading.Lock()

    def worker(body):
        try:
            signed = SignedClient(Client(), api_client)
            barrier.wait()
            response = signed.post(USE, body)
            with lock:
                results.append(response.status_code)
                if bodies_out is not None:
                    bodies_out.append(response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_uses_of_a_code_with_one_use_left_give_exactly_one_success():
    code = promo(max_uses=3)
    PromoCode.objects.filter(pk=code.pk).update(uses_count=2)
    api_client = ApiClientFactory()
    bodies = [order(order_no=f"O-{i}", user_id=f"u-{i}") for i in range(10)]
    results = _parallel_uses(api_client, bodies)
    assert sorted(results) == [200] + [409] * 9
    code.refresh_from_db()
    assert code.uses_count == 3
    assert PromoCodeUse.objects.count() == 1
    assert DepartmentBudget.objects.get().spent == Decimal("11.11")


@pytest.mark.django_db(transaction=True)
def test_parallel_uses_by_one_user_hold_the_per_user_limit():
    code = promo(per_user_limit=2)
    api_client = ApiClientFactory()
    bodies = [order(order_no=f"O-{i}", user_id="same-user") for i in range(10)]
    results = _parallel_uses(api_client, bodies)
    assert sorted(results) == [200, 200] + [409] * 8
    assert PromoCodeUse.objects.filter(code=code, user_id="same-user").count() == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_uses_never_overspend_the_budget():
    promo(budget_amount="50")  # room for 4 uses of 11.11
    api_client = ApiClientFactory()
    bodies = [order(order_no=f"O-{i}", user_id=f"u-{i}") for i in range(10)]
    results = _parallel_uses(api_client, bodies)
    assert results.count(200) == 4
    assert DepartmentBudget.objects.get().spent == Decimal("44.44")


@pytest.mark.django_db(transaction=True)
def test_parallel_uses_of_many_codes_charge_their_one_budget_exactly():
    first = promo(code="HOT0X", budget_amount="50")  # room for 4 uses of 11.11
    codes = [first] + [
        PromoCodeFactory(code=f"HOT{i}X", application=first.application) for i in range(1, 4)
    ]
    api_client = ApiClientFactory()
    bodies = [order(code=codes[i % 4].code, order_no=f"O-{i}", user_id=f"u-{i}") for i in range(12)]
    answers = []
    results = _parallel_uses(api_client, bodies, bodies_out=answers)
    assert sorted(results) == [200] * 4 + [409] * 8
    assert {a["error"]["code"] for a in answers if "error" in a} == {"budget_exhausted"}
    assert DepartmentBudget.objects.get().spent == Decimal("44.44")
    assert sum(PromoCode.objects.values_list("uses_count", flat=True)) == 4
    assert PromoCodeUse.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_different_codes_on_one_order_at_the_same_moment_one_wins():
    codes = [promo(code=f"PAR{i}X") for i in range(6)]
    api_client = ApiClientFactory()
    for round_no in range(5):
        answers = []
        bodies = [order(code=c.code, order_no=f"SAME-{round_no}", user_id="u") for c in codes]
        results = _parallel_uses(api_client, bodies, bodies_out=answers)
        assert sorted(results) == [200] + [409] * 5, answers
        refused = {a["error"]["code"] for a in answers if "error" in a}
        assert refused == {"order_has_promo_code"}
    assert PromoCodeUse.objects.filter(cancelled_at__isnull=True).count() == 5
    assert sum(PromoCode.objects.values_list("uses_count", flat=True)) == 5
    spent = sum(DepartmentBudget.objects.values_list("spent", flat=True), Decimal(0))
    assert spent == Decimal("11.11") * 5


def test_a_client_cannot_cancel_another_clients_use(client):
    promo()
    owner = SignedClient(client, ApiClientFactory(store=StoreFactory(code="501")))
    stranger = SignedClient(client, ApiClientFactory(store=StoreFactory(code="380")))
    assert owner.post(USE, order(order_no="B-1")).status_code == 200
    refused = stranger.post(CANCEL, {"order_no": "B-1"})
    assert refused.status_code == 404 and error_code(refused) == "promo_use_not_found"
    use = PromoCodeUse.objects.get()
    assert use.cancelled_at is None
    assert DepartmentBudget.objects.get().spent == Decimal("11.11")
    assert owner.post(CANCEL, {"order_no": "B-1"}).status_code == 200


def test_order_numbers_are_each_clients_own(client):
    promo()
    one = SignedClient(client, ApiClientFactory())
    other = SignedClient(client, ApiClientFactory())
    assert one.post(USE, order(order_no="N-1", user_id="a")).status_code == 200
    assert other.post(USE, order(order_no="N-1", user_id="b")).status_code == 200
    assert PromoCodeUse.objects.filter(order_no="N-1").count() == 2


def _use_while_the_row_is_locked(api_client, body, *, lock_sql, then_sql):
    """A use that read its code and budget before another transaction, holding the hot row,
    changed it: the use waits at its UPDATE, and answers once the other transaction commits."""
    answer = {}
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(lock_sql)

            def worker():
                try:
                    answer["response"] = SignedClient(Client(), api_client).post(USE, body)
                finally:
                    connection.close()

            thread = threading.Thread(target=worker)
            thread.start()
            # the use reaches its UPDATE and waits for the lock (its reads took no lock)
            deadline = time.monotonic() + 30
            while not answer.get("waited") and time.monotonic() < deadline:
                time.sleep(0.02)
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh figures each time
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
                answer["waited"] = bool(cursor.fetchone()[0])
            cursor.execute(then_sql)
            cursor.execute("COMMIT")
            thread.join()
    finally:
        other.close()
    assert answer["waited"], "the use never waited for the row: the test proves nothing"
    return answer["response"]


@pytest.mark.django_db(transaction=True)
def test_a_use_whose_budget_was_spent_while_it_waited_is_refused_by_the_constraint():
    code = promo(budget_amount="100")
    budget = DepartmentBudget.objects.get()
    response = _use_while_the_row_is_locked(
        ApiClientFactory(),
        order(order_no="LATE-1"),
        lock_sql=f"SELECT 1 FROM promocodes_departmentbudget WHERE id = {budget.pk} FOR UPDATE",
        then_sql=f"UPDATE promocodes_departmentbudget SET spent = 95 WHERE id = {budget.pk}",
    )
    assert response.status_code == 409
    assert error_code(response) == "budget_exhausted"
    assert response.json()["error"]["message"] == "优惠码活动预算已用完，暂不能使用"
    budget.refresh_from_db()
    code.refresh_from_db()
    assert (budget.spent, code.uses_count) == (Decimal("95.00"), 0)
    assert not PromoCodeUse.objects.exists()
    assert not AuditEntry.objects.filter(action="promocodes.use").exists()


@pytest.mark.django_db(transaction=True)
def test_a_use_of_a_code_whose_last_use_went_while_it_waited_is_refused_by_the_constraint():
    code = promo(max_uses=2)
    response = _use_while_the_row_is_locked(
        ApiClientFactory(),
        order(order_no="LATE-2"),
        lock_sql=f"SELECT 1 FROM promocodes_promocode WHERE id = {code.pk} FOR UPDATE",
        then_sql=f"UPDATE promocodes_promocode SET uses_count = 2 WHERE id = {code.pk}",
    )
    assert response.status_code == 409
    assert error_code(response) == "uses_exhausted"
    code.refresh_from_db()
    assert code.uses_count == 2
    assert DepartmentBudget.objects.get().spent == 0
    assert not PromoCodeUse.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_use_in_the_requests_own_transaction_is_committed_with_its_count_and_charge():
    code = promo()
    api_client = ApiClientFactory()
    response = SignedClient(Client(), api_client).post(USE, order(order_no="AUTO-1"))
    assert response.status_code == 200
    assert not connection.in_atomic_block  # the request's own transaction ended with it
    code.refresh_from_db()
    assert code.uses_count == 1
    assert DepartmentBudget.objects.get().spent == Decimal("11.11")
    assert PromoCodeUse.objects.get().order_no == "AUTO-1"
