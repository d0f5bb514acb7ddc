"""Outbound events: the outbox, delivery to a local stub receiver, retries, the partner-shop
callback and the admin's pages."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from couponhub.core import events
from couponhub.core.models import (
    AuditEntry,
    Event,
    EventDelivery,
    EventSubscriber,
    Job,
    RoleAssignment,
)
from couponhub.core.signing import string_to_sign
from tests.factories import OrgFactory, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP receiver: answers 503 to the first `failures` POSTs, then 200; keeps every
    request it took (and checks each signature with `secret`)."""

    def __init__(self, failures: int = 0, secret: str = "", port: int = 0):
        self.failures = failures
        self.secret = secret
        self.seen = 0
        self.accepted: list[dict] = []
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.seen += 1
                expected = hmac.new(
                    receiver.secret.encode(),
                    string_to_sign(
                        "POST",
                        self.path,
                        self.headers["X-Timestamp"],
                        self.headers["X-Nonce"],
                        body,
                    ).encode(),
                    hashlib.sha256,
                ).hexdigest()
                if not hmac.compare_digest(expected, self.headers["X-Signature"]):
                    receiver.bad_signatures += 1
                if receiver.seen <= receiver.failures:
                    self.send_response(503)
                    self.end_headers()
                    return
                event = json.loads(body)
                assert event["id"] == self.headers["X-Event-Id"]
                receiver.accepted.append(event)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/couponhub?v=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        r = Receiver(**kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def subscribe(url, types, secret="s3cret", name="ERP") -> EventSubscriber:
    return EventSubscriber.objects.create(name=name, url=url, secret=secret, event_types=types)


def test_a_receiver_that_fails_twice_gets_each_event_exactly_once_by_id(
    receiver, django_capture_on_commit_callbacks
):
    stub = receiver(failures=2, secret="s3cret")
    subscribe(stub.url, ["coupon.returned"])
    subscribe(stub.url, ["promo_code.used"], name="other")  # not interested
    with django_capture_on_commit_callbacks(execute=True) as kicked:
        for code in ("A1", "B2", "C3"):
            with transaction.atomic():
                events.record_event("coupon.returned", {"code": code})
    assert len(kicked) == 3  # one delivery task per committed event
    # the kicks tried each once: the first two were refused (503), the third taken
    assert stub.seen == 3 and [e["data"]["code"] for e in stub.accepted] == ["C3"]
    pending = EventDelivery.objects.filter(status=EventDelivery.Status.PENDING)
    assert pending.count() == 2
    # not due yet: the sweep sends nothing before the back-off
    assert events.deliver_due() == 0 and stub.seen == 3
    # 30 s later the sweep retries both, and they are taken
    assert events.deliver_due(now=timezone.now() + timedelta(seconds=31)) == 2
    assert events.deliver_due(now=timezone.now() + timedelta(hours=2)) == 0
    ids = [e["id"] for e in stub.accepted]
    assert sorted(ids) == sorted(str(u) for u in Event.objects.values_list("uuid", flat=True))
    assert len(set(ids)) == 3 and stub.seen == 5
    assert stub.bad_signatures == 0
    first = EventDelivery.objects.get(event__data__code="A1")
    assert first.status == EventDelivery.Status.DELIVERED and first.attempts == 2
    assert [a.status_code for a in first.log.order_by("pk")] == [503, 200]
    assert first.log.order_by("pk").first().error == "HTTP 503"


def test_a_rolled_back_transaction_delivers_nothing(receiver, django_capture_on_commit_callbacks):
    stub = receiver()
    subscribe(stub.url, ["coupon.returned"])
    with (
        django_capture_on_commit_callbacks(execute=True) as kicked,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        events.record_event("coupon.returned", {"code": "X"})
        raise RuntimeError("the business change failed")
    assert kicked == []
    assert not Event.objects.exists() and not EventDelivery.objects.exists()
    assert events.deliver_due(now=timezone.now() + timedelta(days=1)) == 0
    assert stub.seen == 0


def test_a_receiver_that_is_down_loses_nothing_and_a_given_up_delivery_can_be_resent(
    receiver, django_capture_on_commit_callbacks
):
    stub = receiver()
    url = stub.url
    stub.close()  # down: connections are refused
    subscribe(url, ["job.finished"])
    with django_capture_on_commit_callbacks(execute=True):
        events.record_event("job.finished", {"job_id": 1})
    delivery = EventDelivery.objects.get()
    assert delivery.status == EventDelivery.Status.PENDING and delivery.attempts == 1
    assert "ConnectionError" in delivery.last_error
    # retried with back-off for a day, then given up
    later = timezone.now()
    while delivery.status == EventDelivery.Status.PENDING:
        later = delivery.next_attempt_at
        events.deliver(delivery.pk, now=later)
        delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.FAILED
    assert 25 <= delivery.attempts <= 40  # 30 s doubling to an hour, for a day
    assert later - delivery.event.created_at <= timedelta(days=1)
    # the receiver comes back on the same port: the admin resends
    again = Receiver(secret="s3cret", port=stub.server.server_port)
    try:
        admin = user_with_role(RoleAssignment.Role.ADMIN, OrgFactory())
        with django_capture_on_commit_callbacks(execute=True):
            events.resend_delivery(actor=admin, delivery=delivery)
        delivery.refresh_from_db()
        assert delivery.status == EventDelivery.Status.DELIVERED
        assert [e["data"] for e in again.accepted] == [{"job_id": 1}]
        assert AuditEntry.objects.filter(action="core.event.resend").exists()
    finally:
        again.close()


def test_a_finished_job_is_an_event(receiver, django_capture_on_commit_callbacks):
    from couponhub.core.jobs import job_runner, run_job

    @job_runner("tests.noop")
    def noop(job):
        pass

    stub = receiver()
    subscribe(stub.url, ["job.finished"])
    job = Job.objects.create(kind="tests.noop", title="试运行")
    with django_capture_on_commit_callbacks(execute=True):
        run_job(job.pk)
    assert [e["data"] for e in stub.accepted] == [
        {"job_id": job.pk, "kind": "tests.noop", "title": "试运行", "status": "succeeded"}
    ]


def test_the_bound_partner_shop_is_told_when_its_coupon_is_redeemed(
    receiver, django_capture_on_commit_callbacks
):
    from redemption import outside
    from tests.redemption.factories import OutsideCouponFactory, OutsideProductMappingFactory

    store = StoreFactory(name="聚食汇国贸店")
    stub = receiver(secret="shop-secret-1")
    admin = user_with_role(RoleAssignment.Role.ADMIN, OrgFactory())
    mapping = OutsideProductMappingFactory(activity__stores=[store], activity__name="100元代金券")
    shop = outside.bind_shop(
        actor=admin,
        org=mapping.shop.org,
        name="聚微量微商城",
        shop_id=mapping.shop.shop_id,
        secret="shop-secret-1",
        callback_url=stub.url,
    )
    other = OutsideCouponFactory()  # another shop's coupon: not told to this one
    mine = OutsideCouponFactory(mapping=mapping)
    with django_capture_on_commit_callbacks(execute=True):
        for coupon in (other, mine):
            other.activity.stores.add(store)
            outside.redeem_outside_coupon(
                code=coupon.code, store=store, items=None, order_no="POS-9", operator="till"
            )
    assert stub.bad_signatures == 0
    assert [(e["type"], e["data"]["code"]) for e in stub.accepted] == [
        ("outside_coupon.redeemed", mine.code)
    ]
    data = stub.accepted[0]["data"]
    assert data["shop_id"] == shop.shop_id and data["store_name"] == "聚食汇国贸店"
    assert data["activity"] == "100元代金券" and data["order_no"] == "POS-9"
    # unbinding the shop stops its callbacks
    outside.unbind_shop(actor=admin, shop=shop)
    assert not EventSubscriber.objects.get(source=f"outside_shop:{shop.pk}").is_active


def test_admin_registers_a_subscriber_sees_the_log_and_resends(
    client, receiver, django_capture_on_commit_callbacks
):
    admin = user_with_role(RoleAssignment.Role.ADMIN, OrgFactory())
    client.force_login(admin)
    url = reverse("core:event_subscribers")
    refused = client.post(
        url, {"name": "ERP", "url": "ftp://x", "event_types": ["coupon.redeemed"]}
    )
    assert "接收地址：必须是https://开头的完整网址" in refused.content.decode()
    stub = receiver()
    page = client.post(
        url, {"name": "ERP", "url": stub.url, "event_types": ["coupon.redeemed"], "is_active": "on"}
    )
    subscriber = EventSubscriber.objects.get()
    assert subscriber.secret in page.content.decode()  # shown this once
    assert subscriber.secret not in client.get(url).content.decode()
    with transaction.atomic():
        events.record_event("coupon.redeemed", {"codes": ["Q1"]})
    delivery = EventDelivery.objects.get()
    log = client.get(reverse("core:event_deliveries"), {"subscriber": subscriber.pk})
    assert str(delivery.event.uuid) in log.content.decode()
    detail = client.get(reverse("core:event_delivery", args=[delivery.pk])).content.decode()
    assert "优惠券核销" in detail and "&quot;codes&quot;:[&quot;Q1&quot;]" in detail
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:event_delivery_resend", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.DELIVERED  # eager task ran on commit
    assert len(stub.accepted) == 1


def test_event_pages_are_for_admins_only(client):
    client.force_login(user_with_role(RoleAssignment.Role.OPERATOR, OrgFactory()))
    assert client.get(reverse("core:event_subscribers")).status_code == 403
    assert client.get(reverse("core:event_deliveries")).status_code == 403


def test_nothing_is_written_without_a_subscriber_and_old_events_are_purged(receiver):
    assert events.record_event("coupon.redeemed", {"codes": ["Z"]}) is None
    assert not Event.objects.exists()
    stub = receiver()
    subscribe(stub.url, ["coupon.redeemed"])
    sent = events.record_event("coupon.redeemed", {"codes": ["Y"]})
    waiting = events.record_event("coupon.redeemed", {"codes": ["W"]})
    events.deliver(EventDelivery.objects.get(event=sent).pk)
    EventDelivery.objects.filter(event=waiting).update(
        next_attempt_at=timezone.now() + timedelta(days=99)
    )
    later = timezone.now() + timedelta(days=31)
    assert events.purge_old_events(now=later) >= 1
    assert list(Event.objects.values_list("pk", flat=True)) == [waiting.pk]  # still to send


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_committed_event_and_the_sweep_retries_it(receiver, worker):
    import time

    stub = receiver(failures=1, secret="s3cret")
    subscribe(stub.url, ["coupon.returned"])
    with transaction.atomic():
        events.record_event("coupon.returned", {"code": "W1"})
    delivery = EventDelivery.objects.get()
    deadline = time.monotonic() + 90
    while delivery.attempts == 0 and time.monotonic() < deadline:
        assert worker.poll() is None, "the worker process died"
        time.sleep(0.3)
        delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == EventDelivery.Status.PENDING  # 503
    assert events.deliver_due(now=timezone.now() + timedelta(minutes=1)) == 1
    assert [e["data"] for e in stub.accepted] == [{"code": "W1"}]
