"""Log lines: JSON in production, a request id from the request into its audit entries and the
tasks it enqueues, and no phone number, SMS code, password or key in any of them."""

import io
import json
import logging
import re
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pythonjsonlogger.json import JsonFormatter

from couponhub.core import logs
from couponhub.core.models import AuditEntry, SmsMessage
from couponhub.core.sms import top_up_sms_account
from coupons.models import Coupon
from pickup.models import PickupOrder
from redemption.models import Redemption, SmsChallenge
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import RegionFactory, Role, StoreFactory, user_with_role
from tests.members.factories import MemberFactory
from tests.pickup.factories import PickupCodeFactory

MEMBER_PHONE = "17700000516"
SHIP_PHONE = "13912345678"
PICKUP_PASSWORD = "80418273"
LOGIN_PASSWORD = "Clerk-Pass-2026"


@pytest.fixture
def captured_logs():
    """Every record of every logger, through the production handler: ContextFilter + JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    options = {k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    handler.setFormatter(JsonFormatter(**options))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _counter_flow(client, sms_outbox):
    """Log in with a password, look a member up by phone, SMS check, redeem."""
    store = StoreFactory(parent=RegionFactory(), name="蓝港店", code="380")
    clerk = user_with_role(Role.CLERK, store, username="lina_pan")
    clerk.set_password(LOGIN_PASSWORD)
    clerk.save()
    member = MemberFactory(phone=MEMBER_PHONE, card_no="5500199339")
    rule = CouponRuleFactory(usable_orgs=[store.parent], min_order_amount=Decimal("300"))
    coupons = [CouponFactory(rule=rule, member=member) for _ in range(2)]
    top_up_sms_account(actor=None, amount=Decimal("100"))

    wrong = client.post(reverse("login"), {"username": "lina_pan", "password": "wrong-" * 3})
    assert wrong.status_code == 200
    assert client.post(reverse("login"), {"username": "lina_pan", "password": LOGIN_PASSWORD})[
        "Location"
    ]
    assert client.get(reverse("redemption:lookup"), {"q": MEMBER_PHONE}).status_code == 200
    started = client.post(
        reverse("redemption:start"),
        {"member": member.pk, "q": MEMBER_PHONE, "coupon": [c.pk for c in coupons]},
        headers={"X-Request-ID": "counter-start-0001"},
    )
    assert started.status_code == 302
    code = re.search(r"验证码为(\d{6})", sms_outbox[-1]["text"]).group(1)
    body = {"code": code, "coupon": [c.pk for c in coupons], "q": MEMBER_PHONE}
    redeemed = client.post(started["Location"], body)
    assert redeemed.status_code == 302 and Redemption.objects.count() == 1
    assert all(c.status == Coupon.Status.USED for c in Coupon.objects.filter(member=member))
    return code


def _consumer_pickup():
    code = PickupCodeFactory(password=PICKUP_PASSWORD)
    consumer = Client()
    entered = consumer.post(
        reverse("pickup:consumer_start"), {"code": code.code, "password": PICKUP_PASSWORD}
    )
    assert entered.status_code == 302
    ordered = consumer.post(
        reverse("pickup:consumer_card"),
        {
            "kind": "online",
            "name": "王小二",
            "phone": SHIP_PHONE,
            "province": "北京市",
            "city": "北京市",
            "district": "朝阳区",
            "address": "朝阳公园路6号",
        },
    )
    assert ordered.status_code == 302 and PickupOrder.objects.filter(code=code).exists()


@pytest.mark.django_db
def test_the_logs_of_a_counter_flow_and_a_consumer_pickup_hold_no_secret(
    client, sms_outbox, captured_logs
):
    sms_code = _counter_flow(client, sms_outbox)
    _consumer_pickup()
    logging.getLogger("tests").warning("a stray number %s in a message", MEMBER_PHONE)

    text = captured_logs.getvalue()
    lines = text.splitlines()
    records = [json.loads(line) for line in lines]  # one JSON object per line
    assert all(r["time"].endswith("+00:00") and r["level"] and r["logger"] for r in records)
    routes = {r.get("route") for r in records}
    assert {"/redemption/lookup/", "/login/", "/pickup/c/"} <= routes, routes
    assert all(r["request_id"] for r in records if r.get("route"))
    assert any("177****0516" in r["message"] for r in records)  # masked, not dropped
    for secret in (
        MEMBER_PHONE,
        SHIP_PHONE,
        sms_code,
        PICKUP_PASSWORD,
        LOGIN_PASSWORD,
        settings.SECRET_KEY,
        *settings.FIELD_ENCRYPTION_KEYS,
    ):
        assert secret not in text, secret


def test_a_sane_request_id_is_kept_and_anything_else_replaced():
    assert logs.request_id_from("abc-123_XY.z:9") == "abc-123_XY.z:9"
    for bad in ("", "short", "has space in it", "x" * 65, "newline\ninjected", "<script>xx"):
        assert re.fullmatch(r"[0-9a-f]{32}", logs.request_id_from(bad)), bad


def test_mobile_numbers_are_masked_but_longer_numbers_are_not():
    assert logs.mask("发往17700000516：x") == "发往177****0516：x"
    assert logs.mask("order 2017700000516999") == "order 2017700000516999"


@pytest.mark.django_db
def test_the_request_id_is_answered_and_written_into_the_audit_entry(client, sms_outbox):
    _counter_flow(client, sms_outbox)
    entry = AuditEntry.objects.get(action="redemption.sms_sent")
    assert entry.request_id == "counter-start-0001"
    response = client.get(reverse("redemption:lookup"), headers={"X-Request-ID": "bad id"})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db(transaction=True)
def test_the_request_id_travels_into_the_task_that_sends_the_sms(client, worker):
    store = StoreFactory(parent=RegionFactory(), code="381")
    clerk = user_with_role(Role.CLERK, store)
    member = MemberFactory(phone="17700000999")
    rule = CouponRuleFactory(usable_orgs=[store.parent])
    coupon = CouponFactory(rule=rule, member=member)
    top_up_sms_account(actor=None, amount=Decimal("1"))
    client.force_login(clerk)
    response = client.post(
        reverse("redemption:start"),
        {"member": member.pk, "q": member.phone, "coupon": [coupon.pk]},
        headers={"X-Request-ID": "req-travels-42"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    challenge = SmsChallenge.objects.get()
    message = SmsMessage.objects.get()
    deadline = time.monotonic() + 60
    while message.status == SmsMessage.Status.PENDING and time.monotonic() < deadline:
        assert worker.poll() is None, "the worker died"
        time.sleep(0.2)
        message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT and challenge.phone == member.phone
    deadline = time.monotonic() + 10
    while f"[req-travels-42] sms {message.pk} sent" not in _log_of(worker):
        assert time.monotonic() < deadline, _log_of(worker)[-2000:]
        time.sleep(0.2)
    assert "17700000999" not in _log_of(worker)


def _log_of(worker) -> str:
    worker.log.flush()
    with open(worker.log.name) as fh:
        return fh.read()
