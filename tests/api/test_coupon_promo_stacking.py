"""Coupons and promo codes don't stack on one order, in either direction (seed 004 §3.6.3): the
redemption side knows when an order already carries a promo code, and the promo-code side when
coupons were redeemed against it; taking one back frees the order for the other."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from couponhub.core.errors import Refused
from coupons.models import Coupon
from promocodes.models import DepartmentBudget, PromoCode, PromoCodeUse
from redemption import services
from redemption.models import Redemption
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import RegionFactory, StoreFactory, UserFactory
from tests.members.factories import MemberFactory, MemberOrderFactory
from tests.promocodes.factories import ApplicationFactory, BudgetFactory, PromoCodeFactory

pytestmark = pytest.mark.django_db
REDEEM = "/api/v1/coupons/redeem"
RETURN = "/api/v1/coupons/return"
USE = "/api/v1/promocodes/use"
CANCEL = "/api/v1/promocodes/cancel"


@pytest.fixture
def store(db):
    return StoreFactory(parent=RegionFactory(), code="380")


@pytest.fixture
def pos_client(store):
    return ApiClientFactory(store=store, name="海典POS")


@pytest.fixture
def pos(client, pos_client):
    return SignedClient(client, pos_client)


@pytest.fixture
def promo(db):
    application = ApplicationFactory()
    BudgetFactory(department=application.department, amount=Decimal("100000"))
    return PromoCodeFactory(code="DEMO80", application=application)


@pytest.fixture
def coupon(store):
    rule = CouponRuleFactory(usable_orgs=[store], min_order_amount=0)
    return CouponFactory(rule=rule)


def use_body(order_no, code="DEMO80"):
    return {
        "code": code,
        "user_id": "u-1",
        "platform": "app",
        "delivery": "delivery",
        "order_no": order_no,
        "items": [{"sku": "SKU1", "merchant": "", "category": "", "amount": "100.00"}],
    }


def redeem_body(store, order_no, *codes):
    return {"store_code": store.code, "codes": list(codes), "order_no": order_no}


def error(response):
    return response.json()["error"]


def test_a_coupon_is_refused_on_an_order_that_carries_a_promo_code(pos, store, promo, coupon):
    assert pos.post(USE, use_body("O-1")).status_code == 200
    response = pos.post(REDEEM, redeem_body(store, "O-1", coupon.code))
    assert response.status_code == 409
    assert error(response) == {
        "code": "promo_code_applied",
        "message": "订单O-1已使用优惠码，优惠券与优惠码不可叠加使用，请先取消优惠码",
    }
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.UNUSED and not Redemption.objects.exists()
    # another order of the same till is free
    assert pos.post(REDEEM, redeem_body(store, "O-2", coupon.code)).status_code == 200


def test_a_promo_code_is_refused_on_an_order_with_coupons(pos, store, promo, coupon):
    assert pos.post(REDEEM, redeem_body(store, "O-1", coupon.code)).status_code == 200
    response = pos.post(USE, use_body("O-1"))
    assert response.status_code == 409
    assert error(response)["code"] == "coupon_already_applied"
    assert "不可叠加" in error(response)["message"]
    promo.refresh_from_db()
    assert promo.uses_count == 0 and not PromoCodeUse.objects.exists()
    assert DepartmentBudget.objects.get().spent == 0


def test_taking_one_back_frees_the_order_for_the_other(pos, store, promo, coupon):
    assert pos.post(USE, use_body("O-1")).status_code == 200
    assert pos.post(CANCEL, {"order_no": "O-1"}).status_code == 200
    redeemed = pos.post(REDEEM, redeem_body(store, "O-1", coupon.code))
    assert redeemed.status_code == 200
    assert pos.post(USE, use_body("O-1")).status_code == 409
    returned = pos.post(RETURN, {"redemption_no": redeemed.json()["redemption_no"]})
    assert returned.status_code == 200
    # (a code cancelled on an order is not taken again on it: another code of the activity)
    PromoCodeFactory(code="DEMO81", application=promo.application)
    assert pos.post(USE, use_body("O-1", code="DEMO81")).status_code == 200


def test_order_numbers_are_each_tills_own(client, store, promo, coupon):
    other_till = SignedClient(client, ApiClientFactory(store=store))
    assert other_till.post(USE, use_body("O-1")).status_code == 200
    mine = SignedClient(Client(), ApiClientFactory(store=store))
    assert mine.post(REDEEM, redeem_body(store, "O-1", coupon.code)).status_code == 200


def test_the_counter_cannot_link_coupons_to_an_order_with_a_promo_code(
    pos, pos_client, store, promo, coupon
):
    member = MemberFactory()
    order = MemberOrderFactory(
        store=store, member=member, order_no="O-9", source=f"api:{pos_client.client_id}"
    )
    assert pos.post(USE, use_body("O-9")).status_code == 200
    clerk = UserFactory()
    Coupon.objects.filter(pk=coupon.pk).update(member=member)
    redemption = services.redeem_coupons(
        store=store,
        coupon_ids=[coupon.pk],
        member=member,
        actor=clerk,
        app="门店后台",
        method="sms",
    )
    with pytest.raises(Refused) as exc:
        services.link_order(redemption=redemption, order=order, actor=clerk)
    assert exc.value.code == "promo_code_applied"
    redemption.refresh_from_db()
    assert redemption.order is None
    # nor redeem against it up front
    second = CouponFactory(rule=coupon.rule, member=member)
    with pytest.raises(Refused) as exc:
        services.redeem_coupons(
            store=store,
            coupon_ids=[second.pk],
            member=member,
            actor=clerk,
            app="门店后台",
            method="sms",
            order=order,
        )
    assert exc.value.code == "promo_code_applied"


@pytest.mark.django_db(transaction=True)
def test_a_coupon_and_a_promo_code_at_the_same_moment_one_wins():
    store = StoreFactory(parent=RegionFactory())
    api_client = ApiClientFactory(store=store)
    application = ApplicationFactory()
    BudgetFactory(department=application.department, amount=Decimal("100000"))
    promo = PromoCodeFactory(code="DEMO80", application=application)
    rule = CouponRuleFactory(usable_orgs=[store], min_order_amount=0)
    rounds = 5
    coupons = [CouponFactory(rule=rule) for _ in range(rounds)]
    results = []
    lock = threading.Lock()

    for i, coupon in enumerate(coupons):
        barrier = threading.Barrier(2)

        def worker(path, body, i=i, barrier=barrier):
            try:
                signed = SignedClient(Client(), api_client)
                barrier.wait()
                response = signed.post(path, body)
                with lock:
                    results.append((i, path, response.status_code))
            finally:
                connection.close()

        threads = [
            threading.Thread(target=worker, args=(USE, use_body(f"R-{i}"))),
            threading.Thread(
                target=worker, args=(REDEEM, redeem_body(store, f"R-{i}", coupon.code))
            ),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for i in range(rounds):
        codes = sorted(status for n, _, status in results if n == i)
        assert codes == [200, 409], (i, results)
    promo.refresh_from_db()
    used_coupons = Coupon.objects.filter(status="used").count()
    assert promo.uses_count + used_coupons == rounds
    assert PromoCode.objects.get().uses_count == PromoCodeUse.objects.count()
