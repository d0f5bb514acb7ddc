"""/healthz, /readyz and /metrics."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from couponhub.core import health
from couponhub.core.models import Job
from couponhub.core.sms import send_sms, top_up_sms_account
from tests.factories import OrgFactory, Role, StoreFactory, user_with_role
from tests.redemption.factories import RedemptionLineFactory

TOKEN = "scrape-token-0123456789"


def test_healthz_answers_without_io_login_or_details(client):
    # no django_db mark: a query would fail the test
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_fails_while_no_worker_beats(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the file heartbeats without Redis
    if settings.REDIS_URL:
        health._redis().delete(*[health._KEY.format(queue=q) for q in health.QUEUES])
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "ok"
    assert body["checks"]["broker"] == "ok"
    assert body["checks"]["worker_interactive"] == "failing"
    assert set(body["checks"].values()) <= {"ok", "failing"}  # no versions, hosts or errors


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_redis_without_saying_where(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    body = client.get("/readyz").json()
    assert body["checks"]["redis"] == "failing" and body["status"] == "failing"
    assert "127.0.0.1" not in str(body)


@pytest.mark.django_db(transaction=True)
def test_readyz_is_ready_once_a_worker_of_each_queue_beats(client, worker):
    deadline = time.monotonic() + 60
    while (response := client.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, response.json()
        assert worker.poll() is None
        time.sleep(0.5)
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            **({"redis": "ok"} if health.settings.REDIS_URL else {}),
            "broker": "ok",
            "worker_interactive": "ok",
            "worker_bulk": "ok",
        },
    }


@pytest.mark.django_db
def test_metrics_only_for_allowed_networks_or_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="192.168.3.4").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", REMOTE_ADDR="8.8.8.8", headers=wrong).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/metrics", REMOTE_ADDR="8.8.8.8", headers=right).status_code == 200
    settings.METRICS_TOKEN = ""  # no token configured: a bearer of "" opens nothing
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="8.8.8.8", headers={"Authorization": "Bearer "}
        ).status_code
        == 403
    )


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.rsplit(" ", 1)[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.django_db
def test_metrics_count_requests_refusals_and_what_the_database_holds(client, settings):
    scrape = lambda: client.get("/metrics").content.decode()  # noqa: E731
    before = scrape()
    route = 'couponhub_http_requests_total{method="GET",route="/healthz",status="200"}'
    # a request, a refused API call, business in the database, a locked-out user
    client.get("/healthz")
    store = StoreFactory()
    RedemptionLineFactory.create_batch(2, redemption__store=store)
    top_up_sms_account(actor=None, amount=Decimal("0.05"))
    send_sms(phone="13900000001", text="x", purpose="t")
    send_sms(phone="13900000002", text="y", purpose="t")  # refused: balance spent
    Job.objects.create(kind="tests.metric", title="t", status=Job.Status.FAILED)
    user_with_role(Role.CLERK, OrgFactory(), username="locked_out")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "locked_out", "password": "bad-guess"})

    after = scrape()
    assert _value(after, route) == _value(before, route) + 1
    assert "couponhub_http_request_duration_seconds_bucket" in after
    assert 'couponhub_redemptions_total{method="sms"} 2.0' in after
    assert "couponhub_coupon_returns_total 0.0" in after
    assert "couponhub_promo_code_uses_total 0.0" in after
    assert 'couponhub_sms_messages_total{status="sent"} 1.0' in after
    assert 'couponhub_sms_messages_total{status="refused"} 1.0' in after
    assert 'couponhub_sms_balance_yuan{account="default"} 0.0' in after
    assert 'couponhub_jobs{kind="tests.metric",state="failed"} 1.0' in after
    assert "couponhub_login_lockouts 1.0" in after
    if settings.REDIS_URL:
        assert 'couponhub_queue_length{queue="bulk"}' in after


@pytest.mark.django_db
def test_an_api_refusal_is_counted_by_its_code(client):
    scrape = lambda: client.get("/metrics").content.decode()  # noqa: E731
    response = client.get("/api/v1/ping")  # unsigned: refused at the edge
    code = response.json()["error"]["code"]
    name = f'couponhub_refusals_total{{code="{code}",where="api"}}'
    before = _value(scrape(), name)
    assert client.get("/api/v1/ping").status_code == 401
    assert _value(scrape(), name) == before + 1
