"""Bad input to the API: always the error body with a Chinese sentence naming the field, never a
5xx, never more than a short prefix of what was sent, and nothing written."""

import pytest

from redemption.models import Redemption
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db
REDEEM = "/api/v1/coupons/redeem"
RETURN = "/api/v1/coupons/return"
VALIDATE = "/api/v1/promocodes/validate"


@pytest.fixture
def pos(client):
    return SignedClient(client, ApiClientFactory(store=StoreFactory(code="380")))


def chinese_error(response):
    body = response.json()
    message = body["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert not any(word in message for word in ("Field required", "Cannot parse", "Input should"))
    return body["error"]["code"], message


@pytest.mark.parametrize("path", [REDEEM, RETURN])
@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (rb'{"store_code":"380","codes":["\ud800"]}', "codes[0]"),
        (rb'{"store_code":"380","codes":["A\udfffB"]}', "codes[0]"),
        (rb'{"store_code":"380","codes":["A\u0000B"]}', "codes[0]"),
    ],
)
def test_text_postgresql_cannot_store_is_refused_naming_the_field(pos, path, raw, what):
    response = pos.post(path, raw)
    assert response.status_code == 400
    code, message = chinese_error(response)
    assert code == "invalid_request" and what in message
    assert not Redemption.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"codes": [', b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000, b'"just a string"'],
)
def test_a_body_that_is_not_json_gets_a_chinese_400_or_422(pos, raw):
    response = pos.post(REDEEM, raw)
    assert response.status_code in (400, 422)
    chinese_error(response)


def test_a_schema_error_names_the_field_in_chinese(pos):
    response = pos.post(REDEEM, {"codes": ["A"]})
    assert response.status_code == 422
    code, message = chinese_error(response)
    assert code == "invalid_request" and "store_code 必填" in message


def test_yes_is_not_a_boolean(pos):
    body = {
        "code": "X",
        "user_id": "u",
        "platform": "app",
        "delivery": "delivery",
        "is_new_user": "yes",
        "items": [{"sku": "S", "amount": "1.00"}],
    }
    response = pos.post(VALIDATE, body)
    assert response.status_code == 422
    assert "is_new_user 必须是 true 或 false" in chinese_error(response)[1]


def test_a_huge_value_is_not_echoed(pos):
    response = pos.post(REDEEM, {"store_code": "380", "codes": ["X" * 2_000_000]})
    assert response.status_code == 400
    assert len(response.content) < 300
    assert "codes[0]" in chinese_error(response)[1]
    longish = pos.post(REDEEM, {"store_code": "380", "codes": ["Y" * 500]})
    assert longish.status_code == 422 and "Y" * 30 not in longish.content.decode()


def test_a_body_over_the_limit_is_the_json_error(pos, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = pos.post(REDEEM, {"store_code": "380", "codes": ["Z" * 1500]})
    assert response.status_code == 413
    assert chinese_error(response)[0] == "body_too_large"


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/api/v1/coupons/{}", "code"),
        ("POST", "/api/v1/orders/{}/refund", "order_no"),
        ("POST", "/api/v1/members/{}/coupons", "card_no"),
    ],
)
def test_a_huge_identifier_in_the_path_is_not_echoed(pos, method, path, field):
    # a 10 KB code in the URL used to come back in full in the 404's message
    body = {"action": "claim", "rule_code": "X"} if "members" in path else None
    response = pos.request(method, path.format("Z" * 10_000), body)
    assert response.status_code == 422 and len(response.content) < 300
    code, message = chinese_error(response)
    assert code == "invalid_request" and field in message and "Z" * 30 not in message
