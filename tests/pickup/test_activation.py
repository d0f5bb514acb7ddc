"""Activation at sale of pickup cards: generated not activated, activated by range at the
store or by the POS through the API, deactivated when the sale is reversed."""

import pytest
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry
from pickup import services
from pickup.models import PickupCode
from pickup.selectors import activation_batches
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.factories import Role, StoreFactory, user_with_role
from tests.pickup.factories import CardTypeFactory

pytestmark = pytest.mark.django_db

WRONG = "提货码或密码错误"


def check(code, password):
    return services.check_code_password(code=code, password=password, client_ip="10.0.0.9")


@pytest.fixture
def sold_batch(operator):
    spec = services.GenerationSpec(
        quantity=20,
        prefix="SALE",
        code_length=8,
        code_format="digits",
        password_length=8,
        password_format="digits",
    )
    batch = services.create_code_batch(
        actor=operator,
        card_type=CardTypeFactory(name="年货礼盒"),
        spec=spec,
        background=False,
        needs_activation=True,
    )
    services.fill_code_batch(batch)
    return batch


def codes_of(batch):
    return list(PickupCode.objects.filter(batch=batch).order_by("serial"))


def test_a_card_sold_at_the_counter_works_only_once_the_store_activates_it(
    client, sold_batch, operator
):
    cards = codes_of(sold_batch)
    assert not any(c.activated for c in cards)
    first = cards[0]
    # the holder with the right password is told the card is not activated, not "wrong"
    answer = check(first.code, first.password)
    assert answer.reason == "not_activated" and "尚未激活" in answer.message
    assert WRONG not in answer.message
    assert check(first.code, "00000000x").reason == "wrong"  # a guesser learns nothing more

    store = StoreFactory(name="蓝港店")
    clerk = user_with_role(Role.CLERK, store, username="seller")
    client.force_login(clerk)
    page = reverse("pickup:activation")
    response = client.post(
        page,
        {"action": "activate", "serial_from": cards[0].serial, "serial_to": cards[9].serial},
    )
    assert response.status_code == 302
    assert [c.activated for c in codes_of(sold_batch)] == [True] * 10 + [False] * 10
    assert check(first.code, first.password).ok
    entry = AuditEntry.objects.get(action="pickup.cards.activate")
    assert entry.org == store and entry.after["n"] == 10
    # the operator sees activated / not activated for the batch
    text = client.get(page).content.decode()
    assert "年货礼盒" in text
    batch = activation_batches().get(pk=sold_batch.pk)
    assert (batch.activated_count, batch.not_activated_count) == (10, 10)
    # the same range again: nothing left to activate, said in a sentence
    again = client.post(
        page,
        {"action": "activate", "serial_from": cards[0].serial, "serial_to": cards[9].serial},
    )
    assert "都已激活或无需激活" in again.content.decode()


def test_the_pos_activates_by_code_and_a_reversed_sale_deactivates(client, sold_batch):
    store = StoreFactory()
    pos = SignedClient(client, ApiClientFactory(store=store, name="收银1"))
    cards = codes_of(sold_batch)
    sold = [cards[3].code.lower(), cards[4].code]
    response = pos.post("/api/v1/pickup-cards/activate", {"codes": sold}, idempotency_key="sale-77")
    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 2}
    # a retry of the same sale gets the same answer and changes nothing
    retry = pos.post("/api/v1/pickup-cards/activate", {"codes": sold}, idempotency_key="sale-77")
    assert retry.json() == {"changed": 2}
    assert check(cards[3].code, cards[3].password).ok
    reverse_sale = pos.post(
        "/api/v1/pickup-cards/deactivate",
        {"codes": [cards[3].code], "reason": "顾客退货"},
        idempotency_key="refund-77",
    )
    assert reverse_sale.json() == {"changed": 1}
    assert check(cards[3].code, cards[3].password).reason == "not_activated"
    assert check(cards[4].code, cards[4].password).ok
    unknown = pos.post("/api/v1/pickup-cards/activate", {"codes": ["NOPE123"]})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {"code": "card_not_found", "message": "提货卡NOPE123不存在"}


def test_a_used_card_cannot_be_unsold_and_an_unsold_card_cannot_be_ordered(operator, sold_batch):
    cards = codes_of(sold_batch)
    services.activate_cards(
        actor=operator, store=None, serial_from=cards[0].serial, serial_to=cards[1].serial
    )
    PickupCode.objects.filter(pk=cards[0].pk).update(status="used")
    with pytest.raises(Refused) as refused:
        services.deactivate_cards(
            actor=operator, store=None, serial_from=cards[0].serial, serial_to=cards[1].serial
        )
    assert refused.value.message == f"提货卡{cards[0].code}已提货，不能撤销售出"
    assert PickupCode.objects.get(pk=cards[1].pk).activated  # nothing changed
    # an order for a card not activated is refused with the same sentence as the check
    product = cards[5].card_type.items.first().product
    with pytest.raises(Refused) as refused:
        services.place_order(
            serial=cards[5].serial,
            product_ids=[product.pk],
            delivery=services.Delivery(
                kind="online",
                name="张三",
                phone="13800000000",
                province="北京",
                city="北京",
                district="东城",
                address="测试路1号",
            ),
            client_ip="10.0.0.9",
        )
    assert "尚未激活" in refused.value.message


def test_cards_of_an_ordinary_batch_are_active_and_cannot_be_deactivated(operator):
    spec = services.GenerationSpec(
        quantity=3,
        prefix="PLAIN",
        code_length=8,
        code_format="digits",
        password_length=8,
        password_format="digits",
    )
    batch = services.create_code_batch(
        actor=operator, card_type=CardTypeFactory(), spec=spec, background=False
    )
    services.fill_code_batch(batch)
    assert all(c.activated for c in codes_of(batch))
    with pytest.raises(Refused) as refused:
        services.deactivate_cards(
            actor=operator,
            store=None,
            serial_from=batch.serial_start,
            serial_to=batch.serial_end,
        )
    assert refused.value.code == "cards_not_activated"


def test_the_activation_page_needs_its_permission(client, hq):
    client.force_login(hq)
    assert client.get(reverse("pickup:activation")).status_code == 403


def test_the_code_page_says_whether_a_sold_card_is_activated(op_client, sold_batch):
    card = codes_of(sold_batch)[0]
    page = op_client.get(reverse("pickup:code_detail", args=[card.pk])).content.decode()
    assert "售出后激活" in page and "未激活" in page
