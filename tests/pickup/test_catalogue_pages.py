"""The catalogue pages model by model: every add, edit and delete goes through the model's own
service with its audit entry, a delete that something still needs is refused with the reason,
a reader gets 403 and a GET on a POST-only action 405."""

import pytest
from django.urls import reverse

from couponhub.core.models import AuditEntry
from pickup.models import CardType, PickupStore, Product
from tests.factories import StoreFactory
from tests.pickup.factories import (
    BrandFactory,
    CardTypeFactory,
    CategoryFactory,
    CodeBatchFactory,
    CourierFactory,
    PickupOrderFactory,
    PickupStoreFactory,
    ProductFactory,
    SpecValueFactory,
)

pytestmark = pytest.mark.django_db

ENTITIES = ["store", "courier", "category", "spec", "brand", "product", "cardtype"]


def actions(model_name: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith=f"pickup.{model_name}.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


@pytest.fixture
def own_pickup_store(group):
    return PickupStoreFactory(store=StoreFactory(parent=group))


@pytest.fixture
def records(own_pickup_store):
    """One record of each model, by the URL segment of its pages."""
    return {
        "store": own_pickup_store,
        "courier": CourierFactory(),
        "category": CategoryFactory(),
        "spec": SpecValueFactory().attribute,
        "brand": BrandFactory(),
        "product": ProductFactory(),
        "cardtype": CardTypeFactory(),
    }


@pytest.mark.parametrize("entity", ENTITIES)
def test_each_model_keeps_its_paths_and_names(entity):
    assert reverse(f"pickup:{entity}_list") == f"/pickup/m/{entity}/"
    assert reverse("pickup:entity_list", args=[entity]) == f"/pickup/m/{entity}/"
    assert reverse("pickup:entity_add", args=[entity]) == f"/pickup/m/{entity}/add/"
    assert reverse("pickup:entity_edit", args=[entity, 7]) == f"/pickup/m/{entity}/7/"
    assert reverse("pickup:entity_delete", args=[entity, 7]) == f"/pickup/m/{entity}/7/delete/"


def test_only_products_and_card_types_are_copied(op_client):
    assert reverse("pickup:entity_copy", args=["product", 7]) == "/pickup/m/product/7/copy/"
    assert reverse("pickup:entity_copy", args=["cardtype", 7]) == "/pickup/m/cardtype/7/copy/"
    assert op_client.post("/pickup/m/brand/7/copy/").status_code == 404


@pytest.mark.parametrize("entity", ENTITIES)
def test_every_add_and_edit_page_opens_for_an_operator(op_client, records, entity):
    record = records[entity]
    response = op_client.get(reverse("pickup:entity_add", args=[entity]))
    assert response.status_code == 200
    response = op_client.get(reverse("pickup:entity_edit", args=[entity, record.pk]))
    assert response.status_code == 200
    assert str(record) in response.content.decode()


@pytest.mark.parametrize("entity", ENTITIES)
def test_a_reader_may_not_add_edit_or_delete(client, hq, records, entity):
    client.force_login(hq)
    pk = records[entity].pk
    assert client.get(reverse("pickup:entity_add", args=[entity])).status_code == 403
    assert client.get(reverse("pickup:entity_edit", args=[entity, pk])).status_code == 403
    assert client.post(reverse("pickup:entity_delete", args=[entity, pk])).status_code == 403
    assert type(records[entity]).objects.filter(pk=pk).exists()


@pytest.mark.parametrize("entity", ["product", "cardtype"])
def test_a_reader_may_not_copy(client, hq, records, entity):
    client.force_login(hq)
    assert (
        client.post(reverse("pickup:entity_copy", args=[entity, records[entity].pk])).status_code
        == 403
    )


@pytest.mark.parametrize("name", ["pickup:entity_delete", "pickup:entity_copy"])
def test_delete_and_copy_take_a_post_only(op_client, records, name):
    product, count = records["product"], Product.objects.count()
    assert op_client.get(reverse(name, args=["product", product.pk])).status_code == 405
    assert Product.objects.count() == count


def test_a_pickup_store_is_added_edited_and_deleted_with_audit(op_client, group):
    store = StoreFactory(parent=group)
    data = {"store": store.pk, "enabled": "on", "address": "北京市东城区", "sort_order": 0}
    assert op_client.post(reverse("pickup:entity_add", args=["store"]), data).status_code == 302
    pickup_store = PickupStore.objects.get()
    data["address"] = "北京市西城区"
    url = reverse("pickup:entity_edit", args=["store", pickup_store.pk])
    assert op_client.post(url, data).status_code == 302
    url = reverse("pickup:entity_delete", args=["store", pickup_store.pk])
    assert op_client.post(url).status_code == 302
    assert not PickupStore.objects.exists()
    assert actions("pickupstore") == [
        "pickup.pickupstore.create",
        "pickup.pickupstore.update",
        "pickup.pickupstore.delete",
    ]
    # the store's entries belong to its org
    assert AuditEntry.objects.get(action="pickup.pickupstore.create").org == store


def test_a_product_is_added_edited_and_deleted_with_audit(op_client):
    category, spec = CategoryFactory(), SpecValueFactory()
    data = {
        "name": "公蟹4两",
        "category": category.pk,
        "unit": "只",
        "price": "88.00",
        "spec_values": [spec.pk],
        "description": "",
        "is_active": "on",
    }
    assert op_client.post(reverse("pickup:entity_add", args=["product"]), data).status_code == 302
    product = Product.objects.get()
    url = reverse("pickup:entity_edit", args=["product", product.pk])
    assert op_client.post(url, {**data, "spec_values": []}).status_code == 302
    assert not product.spec_values.exists()
    url = reverse("pickup:entity_delete", args=["product", product.pk])
    assert op_client.post(url).status_code == 302
    assert actions("product") == [
        "pickup.product.create",
        "pickup.product.update",
        "pickup.product.delete",
    ]
    update = AuditEntry.objects.get(action="pickup.product.update")
    assert update.before["name"] == "公蟹4两" and update.after["spec_values"] == []


def test_a_card_type_is_added_edited_copied_and_deleted_with_audit(op_client):
    product = ProductFactory()
    data = {
        "name": "2388套餐",
        "face_value": "2388.00",
        "selection": "fixed",
        "choose_count": 1,
        "product_list": [product.pk],
        "allow_ship": "on",
        "description": "",
        "is_active": "on",
    }
    assert op_client.post(reverse("pickup:entity_add", args=["cardtype"]), data).status_code == 302
    card = CardType.objects.get()
    url = reverse("pickup:entity_edit", args=["cardtype", card.pk])
    assert op_client.post(url, {**data, "allow_store_pickup": "on"}).status_code == 302
    op_client.post(reverse("pickup:entity_copy", args=["cardtype", card.pk]))
    url = reverse("pickup:entity_delete", args=["cardtype", card.pk])
    assert op_client.post(url).status_code == 302
    assert list(CardType.objects.values_list("name", flat=True)) == ["2388套餐（复制）"]
    assert actions("cardtype") == [
        "pickup.cardtype.create",
        "pickup.cardtype.update",
        "pickup.cardtype.copy",
        "pickup.cardtype.delete",
    ]
    update = AuditEntry.objects.get(action="pickup.cardtype.update")
    assert update.before["items"] == update.after["items"] == [[product.pk, 1]]


@pytest.mark.parametrize(
    "entity,in_use,message",
    [
        ("brand", lambda: ProductFactory(brand=BrandFactory()).brand, "该品牌下还有产品"),
        ("cardtype", lambda: CodeBatchFactory().card_type, "该卡券已有提货码批次，不能删除"),
        ("courier", lambda: PickupOrderFactory(courier=CourierFactory()).courier, "该记录正被使用"),
    ],
)
def test_a_delete_something_still_needs_is_refused_with_the_reason(
    op_client, entity, in_use, message
):
    record = in_use()
    url = reverse("pickup:entity_delete", args=[entity, record.pk])
    response = op_client.post(url, follow=True)
    assert message in response.content.decode()
    assert type(record).objects.filter(pk=record.pk).exists()
    assert not AuditEntry.objects.filter(action__endswith=".delete").exists()


def test_a_pickup_store_a_card_type_lists_is_not_deleted(op_client, own_pickup_store):
    card = CardTypeFactory(name="3888套餐")
    card.stores.add(own_pickup_store)
    url = reverse("pickup:entity_delete", args=["store", own_pickup_store.pk])
    response = op_client.post(url, follow=True)
    assert "该门店正被卡券使用，不能删除：3888套餐" in response.content.decode()
    assert PickupStore.objects.filter(pk=own_pickup_store.pk).exists()


def test_a_negative_price_is_refused_naming_the_field(op_client):
    data = {"name": "公蟹4两", "category": CategoryFactory().pk, "unit": "只", "price": "-1"}
    response = op_client.post(reverse("pickup:entity_add", args=["product"]), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "参考价：不能小于0。" in page
    assert "pickup_price_gte_0" not in page
    assert not Product.objects.exists()
