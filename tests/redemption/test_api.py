import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from coupons.models import Coupon, CouponRule
from members.models import MemberOrder
from redemption.models import Redemption, RedemptionLine
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.coupons.factories import CampaignFactory, CouponFactory, CouponRuleFactory
from tests.factories import StoreFactory
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.django_db
REDEEM = "/api/v1/coupons/redeem"
RETURN = "/api/v1/coupons/return"
ORDERS = "/api/v1/orders"


@pytest.fixture
def pos_client(store):
    return ApiClientFactory(store=store, name="海典POS", auto_return=True)


@pytest.fixture
def pos(client, pos_client):
    return SignedClient(client, pos_client)


def error_code(response):
    body = response.json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])
    return body["error"]["code"]


def redeem_body(store, *codes, **extra):
    return {"store_code": store.code, "codes": list(codes), **extra}


def order_body(store, member, order_no="19241:194501", total="320.00", sku="A1"):
    return {
        "order_no": order_no,
        "store_code": store.code,
        "card_no": member.card_no,
        "traded_at": timezone.now().isoformat(),
        "items": [
            {"sku": sku, "name": "安宫牛黄丸", "category": "中成药", "qty": "1", "amount": total}
        ],
        "total": total,
    }


def test_redeem_by_code(pos, store, rule, member):
    coupons = [CouponFactory(rule=rule, member=member) for _ in range(2)]
    response = pos.post(
        REDEEM, redeem_body(store, *[c.code for c in coupons]), idempotency_key="r1"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["redemption_no"].startswith("HX")
    assert body["member"]["phone"] == "177****0516"
    assert {c["code"] for c in body["coupons"]} == {c.code for c in coupons}
    assert {c["status"] for c in body["coupons"]} == {"used"}
    redemption = Redemption.objects.get()
    assert redemption.method == "api" and redemption.app == "海典POS"
    assert redemption.api_client.name == "海典POS"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"status": "used", "used_at": timezone.now()}, "coupon_used"),
        ({"valid_to": timezone.now() - datetime.timedelta(days=1)}, "coupon_expired"),
        ({"status": "frozen"}, "coupon_frozen"),
        ({"status": "voided"}, "coupon_voided"),
    ],
)
def test_redeem_status_errors_and_nothing_changes(pos, store, rule, member, change, expected):
    good = CouponFactory(rule=rule, member=member)
    bad = CouponFactory(rule=rule, member=member)
    Coupon.objects.filter(pk=bad.pk).update(**change)
    response = pos.post(REDEEM, redeem_body(store, good.code, bad.code))
    assert response.status_code == 409
    assert error_code(response) == expected
    assert bad.code in response.json()["error"]["message"]
    good.refresh_from_db()
    assert good.status == "unused" and not Redemption.objects.exists()


def test_redeem_coupon_not_found(pos, store):
    response = pos.post(REDEEM, redeem_body(store, "NOPE123"))
    assert response.status_code == 404 and error_code(response) == "coupon_not_found"


def test_redeem_store_not_allowed(pos, store, member):
    coupon = CouponFactory(rule=CouponRuleFactory(), member=member)
    response = pos.post(REDEEM, redeem_body(store, coupon.code))
    assert response.status_code == 409 and error_code(response) == "store_not_allowed"


def test_redeem_another_stores_code_is_refused(pos, rule, member):
    coupon = CouponFactory(rule=rule, member=member)
    response = pos.post(REDEEM, {"store_code": StoreFactory().code, "codes": [coupon.code]})
    assert response.status_code == 403 and error_code(response) == "store_mismatch"


def test_redeem_below_threshold_and_product_not_in_order(pos, store, rule, member):
    coupon = CouponFactory(rule=rule, member=member)  # 满300
    items = [{"sku": "A", "amount": "299.00"}]
    response = pos.post(REDEEM, redeem_body(store, coupon.code, items=items))
    assert error_code(response) == "below_threshold"
    product_rule = CouponRuleFactory(
        usable_orgs=[store],
        benefit=CouponRule.Benefit.PRODUCT,
        face_value=None,
        min_order_amount=0,
        exchange_product=ProductFactory(sku="6901234500042", name="煎药费"),
    )
    product = CouponFactory(rule=product_rule, member=member)
    response = pos.post(REDEEM, redeem_body(store, product.code, items=items))
    assert error_code(response) == "product_not_in_order"


def test_redeem_too_many_coupons(pos, store, rule, member):
    codes = [CouponFactory(rule=rule, member=member).code for _ in range(21)]
    response = pos.post(REDEEM, redeem_body(store, *codes))
    assert response.status_code == 400 and error_code(response) == "too_many_coupons"
    assert not Coupon.objects.filter(status="used").exists()


def test_redeem_with_an_empty_list_is_invalid(pos, store):
    response = pos.post(REDEEM, redeem_body(store))
    assert response.status_code == 422 and error_code(response) == "invalid_request"


def test_idempotent_retry_gets_the_first_answer_and_another_body_409(pos, store, rule, member):
    coupon = CouponFactory(rule=rule, member=member)
    first = pos.post(REDEEM, redeem_body(store, coupon.code), idempotency_key="same")
    again = pos.post(REDEEM, redeem_body(store, coupon.code), idempotency_key="same")
    assert again.status_code == 200 and again.json() == first.json()
    assert Redemption.objects.count() == 1
    other = pos.post(REDEEM, redeem_body(store, "OTHER"), idempotency_key="same")
    assert other.status_code == 409 and error_code(other) == "idempotency_key_conflict"


def test_bad_signature_old_timestamp_and_replayed_nonce(pos, store, rule, member):
    coupon = CouponFactory(rule=rule, member=member)
    body = redeem_body(store, coupon.code)
    assert error_code(pos.post(REDEEM, body, secret="wrong")) == "invalid_signature"
    old = pos.post(REDEEM, body, timestamp=int(time.time()) - 301)
    assert old.status_code == 401 and error_code(old) == "timestamp_out_of_window"
    assert pos.post(REDEEM, body, nonce="n-1").status_code == 200
    replay = pos.post(REDEEM, body, nonce="n-1")
    assert replay.status_code == 401 and error_code(replay) == "nonce_reused"
    assert Redemption.objects.count() == 1


def test_coupon_lookup(pos, store, rule, member):
    coupon = CouponFactory(rule=rule, member=member)
    body = pos.get(f"/api/v1/coupons/{coupon.code}").json()
    assert body["status"] == "unused" and body["usable_here"] is True
    assert body["value"] == "¥20.00" and body["min_order_amount"] == "300.00"
    assert body["member"]["phone"] == "177****0516" and body["member"]["name"] == "薛****"
    Coupon.objects.filter(pk=coupon.pk).update(valid_to=timezone.now() - datetime.timedelta(1))
    body = pos.get(f"/api/v1/coupons/{coupon.code}").json()
    assert body["status"] == "expired" and body["usable_here"] is False
    missing = pos.get("/api/v1/coupons/NOPE")
    assert missing.status_code == 404 and error_code(missing) == "coupon_not_found"


def test_return_by_redemption_no_and_by_codes(pos, store, rule, member):
    a, b = (CouponFactory(rule=rule, member=member) for _ in range(2))
    no = pos.post(REDEEM, redeem_body(store, a.code, b.code)).json()["redemption_no"]
    response = pos.post(RETURN, {"redemption_no": no})
    assert response.status_code == 200 and set(response.json()["returned"]) == {a.code, b.code}
    assert set(Coupon.objects.values_list("status", flat=True)) == {"unused"}
    again = pos.post(RETURN, {"redemption_no": no})
    assert again.status_code == 409 and error_code(again) == "already_returned"
    pos.post(REDEEM, redeem_body(store, a.code))
    assert pos.post(RETURN, {"codes": [a.code]}).json()["returned"] == [a.code]
    # b was returned with its redemption: a repeated return says so
    returned_before = pos.post(RETURN, {"codes": [b.code]})
    assert error_code(returned_before) == "already_returned"
    assert "已退券" in returned_before.json()["error"]["message"]
    never = CouponFactory(rule=rule, member=member)
    assert error_code(pos.post(RETURN, {"codes": [never.code]})) == "coupon_not_redeemed"
    assert error_code(pos.post(RETURN, {"codes": ["NOPE"]})) == "coupon_not_found"
    assert error_code(pos.post(RETURN, {"redemption_no": "HX0"})) == "redemption_not_found"
    assert RedemptionLine.objects.filter(returned_at__isnull=False).count() == 3


def test_push_order_is_idempotent_on_order_no(pos, store, member):
    first = pos.post(ORDERS, order_body(store, member))
    assert first.status_code == 201, first.content
    assert first.json()["member_card_no"] == member.card_no
    again = pos.post(ORDERS, order_body(store, member, total="1.00"))
    assert again.status_code == 200 and again.json()["created"] is False
    assert MemberOrder.objects.get().total == Decimal("320.00")
    unknown = dict(order_body(store, member, order_no="X2"), card_no="000")
    assert error_code(pos.post(ORDERS, unknown)) == "member_not_found"


def test_redeem_against_a_pushed_order_links_it_and_checks_its_items(pos, store, rule, member):
    pos.post(ORDERS, order_body(store, member, total="320.00"))
    coupon = CouponFactory(rule=rule, member=member)
    body = pos.post(REDEEM, redeem_body(store, coupon.code, order_no="19241:194501")).json()
    assert body["order_no"] == "19241:194501"
    assert Redemption.objects.get().order == MemberOrder.objects.get()


def test_an_order_pushed_after_the_redemption_is_linked(pos, store, rule, member):
    coupon = CouponFactory(rule=rule, member=member)
    pos.post(REDEEM, redeem_body(store, coupon.code, order_no="LATE-1"))
    pos.post(ORDERS, order_body(store, member, order_no="LATE-1"))
    assert Redemption.objects.get().order.order_no == "LATE-1"


def test_refund_of_an_auto_return_clients_order_returns_its_coupons(pos, store, rule, member):
    pos.post(ORDERS, order_body(store, member))
    coupon = CouponFactory(rule=rule, member=member)
    pos.post(REDEEM, redeem_body(store, coupon.code, order_no="19241:194501"))
    response = pos.post(f"{ORDERS}/19241:194501/refund", idempotency_key="refund-1")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "order_no": "19241:194501",
        "status": "refunded",
        "returned_codes": [coupon.code],
    }
    coupon.refresh_from_db()
    assert coupon.status == "unused"
    line = RedemptionLine.objects.get()
    assert line.returned_at and line.returned_via == "海典POS"


def test_refund_from_a_client_without_auto_return_keeps_the_coupons(client, store, rule, member):
    pos = SignedClient(client, ApiClientFactory(store=store, name="其他POS"))
    pos.post(ORDERS, order_body(store, member))
    coupon = CouponFactory(rule=rule, member=member)
    pos.post(REDEEM, redeem_body(store, coupon.code, order_no="19241:194501"))
    body = pos.post(f"{ORDERS}/19241:194501/refund").json()
    assert body["status"] == "refunded" and body["returned_codes"] == []
    coupon.refresh_from_db()
    assert coupon.status == "used"
    missing = pos.post(f"{ORDERS}/NOPE/refund")
    assert missing.status_code == 404 and error_code(missing) == "order_not_found"


def test_issue_coupons_to_a_member_by_rule_or_campaign(pos, store, member):
    rule = CouponRuleFactory()
    url = f"/api/v1/members/{member.card_no}/coupons"
    response = pos.post(url, {"action": "claim", "rule_code": rule.code})
    assert response.status_code == 201, response.content
    assert Coupon.objects.get(code=response.json()["code"]).member == member
    sale = CouponRuleFactory(sale_price=Decimal("9.90"))
    bought = pos.post(url, {"action": "purchase", "rule_code": sale.code, "payment_method": "微信"})
    assert bought.json()["price_paid"] == "9.90"
    exchange_rule = CouponRuleFactory(kind=CouponRule.Kind.U_VALUE_EXCHANGE, u_value_price=500)
    campaign = CampaignFactory(rule=exchange_rule, u_value_price=300)
    poor = pos.post(url, {"action": "exchange", "campaign_code": campaign.code})
    assert poor.status_code == 409 and error_code(poor) == "coupon_refused"
    member.u_value = 1000
    member.save()
    rich = pos.post(url, {"action": "exchange", "campaign_code": campaign.code})
    assert rich.status_code == 201 and rich.json()["u_value_balance"] == 700
    assert (
        error_code(
            pos.post("/api/v1/members/000/coupons", {"action": "claim", "rule_code": rule.code})
        )
        == "member_not_found"
    )
    assert error_code(pos.post(url, {"action": "claim", "rule_code": "NOPE"})) == "rule_not_found"
    assert (
        error_code(pos.post(url, {"action": "claim", "campaign_code": "NOPE"}))
        == "campaign_not_found"
    )


@pytest.mark.django_db(transaction=True)
def test_many_tills_redeeming_one_code_at_once_exactly_one_succeeds(store, rule, member):
    api_client = ApiClientFactory(store=store)
    coupon = CouponFactory(rule=rule, member=member)
    n = 30
    barrier = threading.Barrier(n)
    statuses = []

    def till():
        try:
            signed = SignedClient(Client(), api_client)
            barrier.wait()
            response = signed.post(REDEEM, redeem_body(store, coupon.code))
            statuses.append((response.status_code, response.json().get("error", {}).get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=till) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s in statuses if s[0] == 200] == [(200, None)]
    assert {s for s in statuses if s[0] != 200} == {(409, "coupon_used")}
    assert RedemptionLine.objects.filter(coupon=coupon).count() == 1


@pytest.mark.django_db(transaction=True)
def test_refunds_of_one_order_at_once_return_its_coupons_once_and_say_so(store, rule, member):
    api_client = ApiClientFactory(store=store, auto_return=True)
    setup = SignedClient(Client(), api_client)
    setup.post(ORDERS, order_body(store, member))
    coupons = [CouponFactory(rule=rule, member=member) for _ in range(3)]
    setup.post(REDEEM, redeem_body(store, *[c.code for c in coupons], order_no="19241:194501"))
    barrier = threading.Barrier(8)
    answers = []

    def refund():
        try:
            signed = SignedClient(Client(), api_client)
            barrier.wait()
            answers.append(signed.post(f"{ORDERS}/19241:194501/refund"))
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 7
    winner = next(a for a in answers if a.status_code == 200)
    assert sorted(winner.json()["returned_codes"]) == sorted(c.code for c in coupons)
    for loser in (a for a in answers if a.status_code == 409):
        assert (
            error_code(loser) == "already_refunded"
            and "已退券3张" in loser.json()["error"]["message"]
        )
    assert RedemptionLine.objects.filter(returned_at__isnull=False).count() == 3
