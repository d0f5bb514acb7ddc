"""Every operator page: success, 403 without the permission, 404 outside the scope."""

import pytest
from django.urls import reverse

from couponhub.core.models import AuditEntry
from pickup.models import Brand, CardType, Category, Courier, PickupStore, Product, SpecAttribute
from tests.factories import StoreFactory
from tests.pickup.factories import (
    BrandFactory,
    CardTypeFactory,
    CategoryFactory,
    CourierFactory,
    PickupCodeFactory,
    PickupStoreFactory,
    ProductFactory,
    SpecValueFactory,
)

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "pickup:code_list",
    "pickup:generate",
    "pickup:batch_action",
    "pickup:import",
    "pickup:export",
    "pickup:settings",
    "pickup:sms",
    "pickup:operation_log",
    "pickup:store_list",
    "pickup:courier_list",
    "pickup:category_list",
    "pickup:spec_list",
    "pickup:brand_list",
    "pickup:product_list",
    "pickup:cardtype_list",
]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_every_page_opens_for_an_operator(op_client, name):
    PickupCodeFactory()
    PickupStoreFactory()
    response = op_client.get(reverse(name))
    assert response.status_code == 200


@pytest.mark.parametrize("name", LIST_PAGES)
def test_every_page_is_refused_to_a_clerk(client, clerk, name):
    client.force_login(clerk)
    assert client.get(reverse(name)).status_code == 403


def test_hq_reads_lists_but_cannot_edit(client, hq):
    client.force_login(hq)
    assert client.get(reverse("pickup:product_list")).status_code == 200
    assert client.get(reverse("pickup:entity_add", args=["product"])).status_code == 403
    assert client.get(reverse("pickup:generate")).status_code == 403


@pytest.mark.parametrize(
    "entity,model,data",
    [
        ("courier", Courier, {"name": "顺丰速运", "code": "sf", "enabled": "on", "sort_order": 1}),
        ("category", Category, {"name": "水产", "sort_order": 0}),
        ("brand", Brand, {"name": "阳澄湖", "description": "", "sort_order": 0}),
        (
            "spec",
            SpecAttribute,
            {"name": "产地", "values_text": "阳澄湖\n太湖\n阳澄湖", "sort_order": 0},
        ),
    ],
)
def test_an_operator_adds_edits_and_deletes_records_with_audit(op_client, entity, model, data):
    # when a record is added
    response = op_client.post(reverse("pickup:entity_add", args=[entity]), data)
    assert response.status_code == 302
    obj = model.objects.get()
    assert AuditEntry.objects.filter(action=f"pickup.{model._meta.model_name}.create").exists()
    # and edited
    response = op_client.post(
        reverse("pickup:entity_edit", args=[entity, obj.pk]), {**data, "name": data["name"] + "2"}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=f"pickup.{model._meta.model_name}.update")
    assert entry.before["name"] == data["name"] and entry.after["name"] == data["name"] + "2"
    # and deleted
    response = op_client.post(reverse("pickup:entity_delete", args=[entity, obj.pk]))
    assert response.status_code == 302
    assert not model.objects.exists()
    assert AuditEntry.objects.filter(action=f"pickup.{model._meta.model_name}.delete").exists()


def test_courier_codes_are_stored_upper_case(op_client):
    op_client.post(
        reverse("pickup:entity_add", args=["courier"]),
        {"name": "圆通", "code": "yto", "sort_order": 0},
    )
    assert Courier.objects.get().code == "YTO"


def test_spec_values_are_kept_as_a_list(op_client):
    op_client.post(
        reverse("pickup:entity_add", args=["spec"]),
        {"name": "重量", "values_text": "4两\n3两\n4两", "sort_order": 0},
    )
    assert list(SpecAttribute.objects.get().values.values_list("value", flat=True)) == [
        "4两",
        "3两",
    ]


def test_product_add_with_specs_and_copy(op_client):
    category, brand, spec = CategoryFactory(), BrandFactory(), SpecValueFactory()
    response = op_client.post(
        reverse("pickup:entity_add", args=["product"]),
        {
            "name": "公蟹4两",
            "category": category.pk,
            "brand": brand.pk,
            "unit": "只",
            "price": "88.00",
            "spec_values": [spec.pk],
            "description": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert list(product.spec_values.all()) == [spec]
    response = op_client.post(reverse("pickup:entity_copy", args=["product", product.pk]))
    copy = Product.objects.exclude(pk=product.pk).get()
    assert response["Location"] == reverse("pickup:entity_edit", args=["product", copy.pk])
    assert copy.name == "公蟹4两（复制）" and list(copy.spec_values.all()) == [spec]


def test_a_product_in_use_by_a_card_type_cannot_be_deleted(op_client):
    product = ProductFactory(name="母蟹3两")
    CardTypeFactory(name="2388套餐", product_list=[product])
    response = op_client.post(
        reverse("pickup:entity_delete", args=["product", product.pk]), follow=True
    )
    assert Product.objects.filter(pk=product.pk).exists()
    text = response.content.decode()
    assert "该产品正被卡券使用，不能删除：2388套餐" in text


def test_a_category_with_products_cannot_be_deleted(op_client):
    product = ProductFactory()
    response = op_client.post(
        reverse("pickup:entity_delete", args=["category", product.category_id]), follow=True
    )
    assert "该类别下还有产品" in response.content.decode()


def test_card_type_add_choose_mode_and_copy(op_client):
    products = [ProductFactory(), ProductFactory(), ProductFactory()]
    store = PickupStoreFactory()
    data = {
        "name": "3888套餐",
        "face_value": "3888.00",
        "selection": "choose",
        "choose_count": 2,
        "product_list": [p.pk for p in products],
        "allow_ship": "on",
        "allow_store_pickup": "on",
        "stores": [store.pk],
        "valid_from": "2026-09-01",
        "valid_until": "2026-12-31",
        "description": "",
        "is_active": "on",
    }
    response = op_client.post(reverse("pickup:entity_add", args=["cardtype"]), data)
    assert response.status_code == 302, response.content.decode()
    card = CardType.objects.get()
    assert card.items.count() == 3 and list(card.stores.all()) == [store]
    # choose more than the list holds → a form error on the field
    response = op_client.post(
        reverse("pickup:entity_edit", args=["cardtype", card.pk]), {**data, "choose_count": 5}
    )
    assert response.status_code == 200
    assert "选择的产品数量多于列表中的产品" in response.content.decode()
    # no delivery mode → error
    bad = {k: v for k, v in data.items() if k not in ("allow_ship", "allow_store_pickup")}
    response = op_client.post(reverse("pickup:entity_edit", args=["cardtype", card.pk]), bad)
    assert "至少允许一种提货方式" in response.content.decode()
    # copy
    op_client.post(reverse("pickup:entity_copy", args=["cardtype", card.pk]))
    copy = CardType.objects.exclude(pk=card.pk).get()
    assert copy.name == "3888套餐（复制）" and copy.items.count() == 3
    assert list(copy.stores.all()) == [store]


def test_pickup_stores_outside_the_scope_are_404(client, group):
    from tests.factories import Role, user_with_role

    mine = StoreFactory()
    other = PickupStoreFactory()
    regional = user_with_role(Role.OPERATOR, mine.parent, username="regional")
    client.force_login(regional)
    assert client.get(reverse("pickup:entity_edit", args=["store", other.pk])).status_code == 404
    assert client.post(reverse("pickup:entity_delete", args=["store", other.pk])).status_code == 404
    # and their own store can be added
    response = client.post(
        reverse("pickup:entity_add", args=["store"]),
        {"store": mine.pk, "enabled": "on", "address": "北京市东城区", "sort_order": 0},
    )
    assert response.status_code == 302
    assert PickupStore.objects.filter(store=mine).exists()
    # a store outside the scope is not offered
    response = client.post(
        reverse("pickup:entity_add", args=["store"]),
        {"store": other.store.pk, "address": "x", "sort_order": 0},
    )
    assert response.status_code == 200


def test_unknown_records_are_404(op_client):
    assert op_client.get(reverse("pickup:entity_edit", args=["product", 999])).status_code == 404
    assert op_client.get("/pickup/m/nothing/").status_code == 404
    assert op_client.get(reverse("pickup:code_detail", args=[999])).status_code == 404


def test_operation_log_shows_pickup_actions_only(op_client):
    CourierFactory()
    op_client.post(
        reverse("pickup:entity_add", args=["courier"]),
        {"name": "中通", "code": "ZTO", "sort_order": 0},
    )
    AuditEntry.objects.create(action="org.create", object_repr="别的应用")
    text = op_client.get(reverse("pickup:operation_log")).content.decode()
    assert "pickup.courier.create" in text and "别的应用" not in text
