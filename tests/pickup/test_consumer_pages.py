"""The consumer's pages: code + password → card → order → status; lookup; red packet."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from pickup import services
from pickup.models import CardType, PasswordAttempt, PickupCode, PickupOrder, RedPacketClaim
from pickup.views.consumer import client_ip
from tests.pickup.factories import (
    CardTypeFactory,
    PickupCodeFactory,
    PickupStoreFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

START = reverse("pickup:consumer_start")
CARD = reverse("pickup:consumer_card")
LOOKUP = reverse("pickup:consumer_lookup")
SHIP = {
    "kind": "online",
    "name": "王小二",
    "phone": "13912345678",
    "province": "北京市",
    "city": "北京市",
    "district": "朝阳区",
    "address": "朝阳公园路6号",
}


def enter(client, code, password):
    return client.post(START, {"code": code, "password": password})


def test_qr_link_fills_the_code_in(client):
    code = PickupCodeFactory()
    page = client.get(reverse("pickup:consumer_code", args=[code.code.lower()]))
    assert page.status_code == 200
    assert f'value="{code.code}"' in page.content.decode()
    assert "csrfmiddlewaretoken" in page.content.decode()


def test_every_consumer_form_needs_csrf():
    code = PickupCodeFactory(password="12345678")
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(START, {"code": code.code, "password": "12345678"}).status_code == 403
    assert strict.post(LOOKUP, {"order_no": "P1", "phone": "13900000000"}).status_code == 403


def test_fixed_card_ship_to_an_address(client):
    code = PickupCodeFactory(password="12345678")
    response = enter(client, code.code, "12345678")
    assert response.status_code == 302 and response.url == CARD
    page = client.get(CARD).content.decode()
    assert code.card_type.name in page and code.card_type.items.first().product.name in page
    response = client.post(CARD, SHIP)
    order = PickupOrder.objects.get(code=code)
    assert response.url == reverse("pickup:consumer_order", args=[order.order_no])
    status = client.get(response.url).content.decode()
    assert order.order_no in status and "朝阳公园路6号" in status and "未发货" in status
    # the verified code is gone from the session: the card page asks for the code again
    assert client.get(CARD).url == START


def test_choice_card_and_store_pickup(client):
    products = ProductFactory.create_batch(3)
    card = CardTypeFactory(
        selection=CardType.Selection.CHOOSE, choose_count=2, product_list=products
    )
    store = PickupStoreFactory()
    card.stores.set([store])
    code = PickupCodeFactory(batch__card_type=card, password="12345678")
    enter(client, code.code, "12345678")
    form = {
        "kind": "store",
        "name": "李四",
        "phone": "13700001111",
        "store": store.pk,
        "pickup_date": timezone.localdate().isoformat(),
    }
    page = client.post(CARD, {**form, "products": [products[0].pk]})
    assert page.status_code == 200 and "请选择 2 件商品" in page.content.decode()
    assert not PickupOrder.objects.exists()
    client.post(CARD, {**form, "products": [products[0].pk, products[1].pk]})
    order = PickupOrder.objects.get(code=code)
    assert order.kind == "store" and order.store == store
    assert sorted(order.items.values_list("product_id", flat=True)) == [
        products[0].pk,
        products[1].pk,
    ]


def test_missing_fields_are_named(client):
    code = PickupCodeFactory(password="12345678")
    enter(client, code.code, "12345678")
    page = client.post(CARD, {**SHIP, "address": "", "phone": "123"})
    errors = page.context["form"].errors
    assert "address" in errors and "phone" in errors
    assert not PickupOrder.objects.exists()


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"enabled": False}, "已停用"),
        ({"status": "used"}, "已使用"),
    ],
)
def test_disabled_and_used_codes_get_their_own_message(client, kwargs, text):
    code = PickupCodeFactory(password="12345678", **kwargs)
    page = enter(client, code.code, "12345678")
    assert page.status_code == 200 and text in page.content.decode()


def test_expired_code_message(client):
    card = CardTypeFactory(valid_until=timezone.localdate() - timezone.timedelta(days=1))
    code = PickupCodeFactory(batch__card_type=card, password="12345678")
    assert "已过期" in enter(client, code.code, "12345678").content.decode()


def test_lock_message_does_not_tell_whether_the_code_exists(client):
    code = PickupCodeFactory(password="12345678")
    for _ in range(5):
        wrong = enter(client, code.code, "bad").content.decode()
        enter(client, "NOSUCHCODE99", "bad")
    assert services.WRONG_MESSAGE in wrong
    real = enter(client, code.code, "12345678").content.decode()
    fake = enter(client, "NOSUCHCODE99", "12345678").content.decode()
    assert services.LOCKED_MESSAGE in real and services.LOCKED_MESSAGE in fake


def test_another_consumers_order_is_not_visible(client):
    code = PickupCodeFactory(password="12345678")
    enter(client, code.code, "12345678")
    client.post(CARD, SHIP)
    order = PickupOrder.objects.get()
    stranger = Client()
    url = reverse("pickup:consumer_order", args=[order.order_no])
    response = stranger.get(url)
    assert response.status_code == 302 and response.url == LOOKUP
    wrong = stranger.post(LOOKUP, {"order_no": order.order_no, "phone": "13900000000"})
    assert "订单号或手机号不正确" in wrong.content.decode()
    assert stranger.post(reverse("pickup:consumer_claim", args=[order.order_no])).status_code == 404
    found = stranger.post(LOOKUP, {"order_no": order.order_no.lower(), "phone": SHIP["phone"]})
    assert found.url == url and stranger.get(url).status_code == 200


def test_an_order_in_the_recycle_bin_is_not_shown_to_the_consumer(client, operator):
    # given an order its consumer has open
    code = PickupCodeFactory(password="12345678")
    enter(client, code.code, "12345678")
    url = client.post(CARD, SHIP).url
    order = PickupOrder.objects.get()
    # when an operator moves it to the recycle bin
    services.delete_orders(actor=operator, orders=PickupOrder.objects.filter(pk=order.pk))
    # then its page sends the consumer to the lookup, and the lookup does not find it
    assert client.get(url).url == LOOKUP
    found = client.post(LOOKUP, {"order_no": order.order_no, "phone": SHIP["phone"]})
    assert "订单号或手机号不正确" in found.content.decode()
    # and once restored it is the consumer's again
    services.restore_orders(actor=operator, orders=PickupOrder.objects.filter(pk=order.pk))
    found = client.post(LOOKUP, {"order_no": order.order_no, "phone": SHIP["phone"]})
    assert found.url == url


def test_red_packet_claimed_once_from_the_status_page(client, operator):
    services.top_up_red_packets(actor=operator, amount="10")
    code = PickupCodeFactory(password="12345678")
    services.generate_red_packets(
        actor=operator, selection={"batch": str(code.batch_id)}, low="2.50", high="2.50"
    )
    enter(client, code.code, "12345678")
    status_url = client.post(CARD, SHIP).url
    assert "¥2.50" in client.get(status_url).content.decode()
    order = PickupOrder.objects.get()
    claim_url = reverse("pickup:consumer_claim", args=[order.order_no])
    client.post(claim_url, {"location": "39.94,116.48"}, REMOTE_ADDR="10.1.2.3")
    claim = RedPacketClaim.objects.get()
    assert (claim.amount, claim.location, claim.client_ip) == (
        claim.amount,
        "39.94,116.48",
        "10.1.2.3",
    )
    assert str(claim.amount) == "2.50" and claim.user_phone == SHIP["phone"]
    again = client.post(claim_url, follow=True).content.decode()
    assert "已领取" in again and RedPacketClaim.objects.count() == 1
    assert PickupCode.objects.get(pk=code.pk).red_packet_amount == claim.amount


def test_behind_a_proxy_the_address_is_the_one_the_proxy_added(client, settings):
    # the proxy appends the address it saw to X-Forwarded-For; what comes before is the client's
    # own text. A garbage first entry used to be stored as the address (a 500 on PostgreSQL's
    # inet), and a new made-up first entry per try escaped the per-address limit.
    settings.PICKUP_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    response = client.post(
        START, {"code": "NOSUCH000001", "password": "x"}, HTTP_X_FORWARDED_FOR="junk, 10.5.5.5"
    )
    assert response.status_code == 200
    for i in range(services.MAX_IP_FAILURES):
        client.post(
            START,
            {"code": f"NOSUCH{i:06d}", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 10.5.5.5",
        )
    answer = enter(client, "NOSUCHXXXXXX", "x").content.decode()
    assert services.LOCKED_MESSAGE not in answer  # another address (REMOTE_ADDR, no header)
    locked = client.post(
        START, {"code": "NOSUCHYYYYYY", "password": "x"}, HTTP_X_FORWARDED_FOR="1.2.3.4, 10.5.5.5"
    )
    assert services.LOCKED_MESSAGE in locked.content.decode()
    assert set(PasswordAttempt.objects.values_list("client_ip", flat=True)) == {
        "10.5.5.5",
        "127.0.0.1",
    }
    # no header, or nothing usable in it: the connecting address
    assert client_ip(RequestFactory().get("/", HTTP_X_FORWARDED_FOR="junk")) == "127.0.0.1"
