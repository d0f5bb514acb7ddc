"""Idempotency-Key through real endpoints: the first answer, rendered by ninja against the
operation's response model, is what every retry gets."""

import datetime as dt
import hashlib
import json

import pytest
from django.utils import timezone

from couponhub.core.models import IdempotencyRecord
from members.models import MemberOrder
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.factories import StoreFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders"


@pytest.fixture
def store():
    return StoreFactory(code="380")


@pytest.fixture
def pos(client, store):
    return SignedClient(client, ApiClientFactory(store=store))


def order(store, order_no="K-1", total="88.00"):
    return {
        "order_no": order_no,
        "store_code": store.code,
        "card_no": MemberFactory().card_no,
        "traded_at": timezone.now().isoformat(),
        "items": [{"sku": "A1", "name": "龙井", "qty": "1", "amount": total}],
        "total": total,
    }


def operation_schema(client, path: str, status: str) -> set[str]:
    spec = client.get("/api/v1/openapi.json").json()
    ref = spec["paths"][path]["post"]["responses"][status]["content"]["application/json"]
    name = ref["schema"]["$ref"].rsplit("/", 1)[-1]
    return set(spec["components"]["schemas"][name]["properties"])


def test_a_retry_gets_the_first_answer_byte_for_byte_and_one_effect(pos, store, client):
    body = order(store)
    first = pos.post(ORDERS, body, idempotency_key="k1")
    again = pos.post(ORDERS, body, idempotency_key="k1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert MemberOrder.objects.count() == 1
    record = IdempotencyRecord.objects.get(key="k1")
    assert record.status_code == 201 and record.response == first.content.decode()
    # the answer is the operation's response model, exactly its fields
    assert set(first.json()) == operation_schema(client, ORDERS, "201")


def test_the_same_key_with_another_body_is_a_conflict_and_changes_nothing(pos, store):
    pos.post(ORDERS, order(store), idempotency_key="k1")
    other = pos.post(ORDERS, order(store, order_no="K-2"), idempotency_key="k1")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_conflict"
    assert MemberOrder.objects.count() == 1


def test_a_refusal_is_the_answer_a_retry_gets(pos, store):
    body = {"store_code": store.code, "codes": ["NOSUCHCODE"]}
    first = pos.post("/api/v1/coupons/redeem", body, idempotency_key="r1")
    again = pos.post("/api/v1/coupons/redeem", body, idempotency_key="r1")
    assert first.status_code == again.status_code == 404
    assert first.content == again.content
    assert first.json()["error"]["code"] == "coupon_not_found"


def test_keys_are_per_client(client, store):
    body = order(store)
    first = SignedClient(client, ApiClientFactory(store=store)).post(
        ORDERS, body, idempotency_key="k"
    )
    other_client = SignedClient(client, ApiClientFactory(store=store))
    second = other_client.post(ORDERS, body, idempotency_key="k")
    assert first.status_code == second.status_code == 201  # orders are per client, too
    assert IdempotencyRecord.objects.filter(key="k").count() == 2


def test_an_overlong_key_is_refused_in_the_error_body(pos, store):
    response = pos.post(ORDERS, order(store), idempotency_key="k" * 101)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert MemberOrder.objects.count() == 0


def test_a_key_left_in_progress_by_a_dead_worker_is_taken_over_after_a_while(pos, store):
    body = order(store, order_no="DEAD-1")
    raw = json.dumps(body, ensure_ascii=False).encode()
    stuck = IdempotencyRecord.objects.create(
        client_key=pos.api_client.client_key,
        key="k-dead",
        request_hash=hashlib.sha256(raw).hexdigest(),
    )
    busy = pos.post(ORDERS, body, idempotency_key="k-dead")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "idempotency_in_progress"
    IdempotencyRecord.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=3)
    )
    retry = pos.post(ORDERS, body, idempotency_key="k-dead")
    assert retry.status_code == 201
    assert MemberOrder.objects.filter(order_no="DEAD-1").count() == 1
    assert IdempotencyRecord.objects.get(key="k-dead").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_in_a_requests_own_transaction_the_claim_and_the_answer_are_stored(store):
    """Outside any transaction (as under gunicorn) the claim and the answer are written by their
    own statements and replayed."""
    from django.test import Client

    pos = SignedClient(Client(), ApiClientFactory(store=store))
    body = order(store, order_no="AUTO-1")
    first = pos.post(ORDERS, body, idempotency_key="auto-1")
    assert first.status_code == 201
    record = IdempotencyRecord.objects.get(key="auto-1")
    assert record.status_code == 201
    assert json.loads(record.response) == first.json()
    again = pos.post(ORDERS, body, idempotency_key="auto-1")
    assert again.status_code == 201
    assert again.content == first.content
    assert MemberOrder.objects.filter(order_no="AUTO-1").count() == 1
