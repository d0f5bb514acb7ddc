"""With Redis, each process keeps API clients briefly; a change anywhere takes effect at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api import services
from api.models import ApiClient
from api.security import client_cache
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.conftest import redis_url

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not redis_url(), reason="the client cache needs REDIS_URL"),
]


@pytest.fixture
def pos(client):
    signed = SignedClient(client, ApiClientFactory())
    assert signed.get("/api/v1/ping").status_code == 200  # starts the generation if none yet
    assert signed.get("/api/v1/ping").status_code == 200  # cached from here on
    return signed


def ping_code(pos):
    response = pos.get("/api/v1/ping")
    return response.status_code, response.json().get("error", {}).get("code")


def test_a_cached_client_is_answered_without_a_query(pos):
    with CaptureQueriesContext(connection) as queries:
        response = pos.get("/api/v1/ping")
    assert response.status_code == 200
    assert response.json()["store_code"] == pos.api_client.store.code
    assert len(queries) == 0


def test_deactivating_a_cached_client_refuses_its_next_call(pos, admin_user):
    services.set_api_client_active(actor=admin_user, client=pos.api_client, active=False)
    assert ping_code(pos) == (401, "invalid_client")


def test_a_change_made_by_another_process_is_seen_on_the_next_call(pos):
    # another process: its UPDATE is invisible to this process's signals, its new generation is not
    ApiClient.objects.filter(pk=pos.api_client.pk).update(secret="another-secret-0123456789")
    client_cache._new_generation()
    assert ping_code(pos) == (401, "invalid_signature")
    pos.secret = "another-secret-0123456789"
    assert ping_code(pos) == (200, None)


def test_a_store_change_is_seen_on_the_next_call(pos):
    store = pos.api_client.store
    store.code = "NEW-CODE"
    store.save()
    assert pos.get("/api/v1/ping").json()["store_code"] == "NEW-CODE"


def test_a_replayed_nonce_is_refused_for_a_cached_client(pos):
    assert pos.get("/api/v1/ping", nonce="cached-n").status_code == 200
    assert ping_code_with_nonce(pos, "cached-n") == (401, "nonce_reused")


def ping_code_with_nonce(pos, nonce):
    response = pos.get("/api/v1/ping", nonce=nonce)
    return response.status_code, response.json().get("error", {}).get("code")
