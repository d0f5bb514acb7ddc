import math
import time

import pytest
from django.core.management import call_command
from django.db import connection

from api.models import ApiClient
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pos(client):
    return SignedClient(client, ApiClientFactory())


def error_code(response):
    return response.json()["error"]["code"]


def test_it_answers_a_correctly_signed_request(pos):
    response = pos.get("/api/v1/ping")
    assert response.status_code == 200
    assert response.json()["client"] == pos.api_client.client_id


def test_it_signs_the_path_with_its_query_string(pos):
    assert pos.get("/api/v1/ping?x=1").status_code == 200


def test_it_refuses_a_request_without_signature_headers(client):
    response = client.get("/api/v1/ping")
    assert response.status_code == 401
    assert error_code(response) == "missing_signature"


def test_it_refuses_a_wrong_signature(pos):
    response = pos.get("/api/v1/ping", secret="not-the-secret")
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"
    assert "签名" in response.json()["error"]["message"]


@pytest.mark.parametrize("offset", [-301, 301])
def test_it_refuses_a_timestamp_outside_300_seconds(pos, offset):
    # whole seconds away from now, rounded away from it: int(now) + 301 is only 300.x s ahead,
    # inside the window by the time a slow machine checks it
    now = time.time()
    stamp = math.ceil(now) + offset if offset > 0 else math.floor(now) + offset
    response = pos.get("/api/v1/ping", timestamp=stamp)
    assert error_code(response) == "timestamp_out_of_window"


def test_it_accepts_a_timestamp_inside_the_window(pos):
    assert pos.get("/api/v1/ping", timestamp=int(time.time()) - 290).status_code == 200


def test_it_refuses_a_replayed_nonce(pos):
    assert pos.get("/api/v1/ping", nonce="n-1").status_code == 200
    response = pos.get("/api/v1/ping", nonce="n-1")
    assert response.status_code == 401
    assert error_code(response) == "nonce_reused"


def test_a_nonce_belongs_to_its_client(client):
    first, second = (
        SignedClient(client, ApiClientFactory()),
        SignedClient(client, ApiClientFactory()),
    )
    assert first.get("/api/v1/ping", nonce="shared").status_code == 200
    assert second.get("/api/v1/ping", nonce="shared").status_code == 200


def test_it_refuses_an_inactive_or_unknown_client(pos):
    pos.api_client.is_active = False
    pos.api_client.save()
    assert error_code(pos.get("/api/v1/ping")) == "invalid_client"


def test_the_openapi_document_and_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/ping" in schema.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_create_api_client_prints_the_secret_once_and_stores_it_encrypted(capsys):
    StoreFactory(code="380")
    call_command("create_api_client", "雨诺POS", "--store", "380", "--auto-return")
    out = capsys.readouterr().out
    secret = out.split("secret:")[1].split()[0]
    api_client = ApiClient.objects.get()
    assert api_client.auto_return is True
    assert api_client.secret == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM api_apiclient")
        (raw,) = cursor.fetchone()
    assert secret not in raw


def test_a_nul_character_anywhere_is_refused_before_it_reaches_the_database(pos):
    response = pos.post("/api/v1/coupons/return", {"codes": ["A\x00B"]})
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert error_code(pos.get("/api/v1/coupons/X%00Y")) == "invalid_request"


def test_a_method_an_endpoint_lacks_answers_405_in_the_api_error_body(pos):
    response = pos.post("/api/v1/ping", {})
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_an_unknown_api_path_answers_404_in_the_api_error_body(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    # outside the API, Django's own page as before
    assert client.get("/no-such-page/").status_code == 404
    assert "json" not in client.get("/no-such-page/")["Content-Type"]


@pytest.mark.parametrize("timestamp", ["9" * 5000, "\u00b2\u00b3", "1e9", "-1"])
def test_a_timestamp_that_is_no_number_of_seconds_is_refused_not_a_500(pos, timestamp):
    # 5000 digits passed isdigit() and then int() raised (Python's 4300-digit limit), and so did
    # a superscript digit (a latin-1 byte in a header): both were 500s
    response = pos.post("/api/v1/coupons/redeem", {"store_code": "380"}, timestamp=timestamp)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "timestamp_out_of_window"
