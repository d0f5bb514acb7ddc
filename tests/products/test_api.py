"""The product master over the signed API: bulk upserts (all or nothing, idempotent), lists a
page at a time, refusals in the API's error body."""

import pytest

from couponhub.core.models import AuditEntry
from products.models import Category, Product
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.products.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
CATEGORIES = "/api/v1/product-categories"
PRODUCTS = "/api/v1/products"


@pytest.fixture
def erp(client):
    return SignedClient(client, ApiClientFactory(name="总部ERP"))


def test_an_unsigned_or_badly_signed_request_is_refused(client, erp):
    assert client.get(PRODUCTS).status_code == 401
    response = erp.request("POST", PRODUCTS, {"products": []}, signature="0" * 64)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not AuditEntry.objects.filter(action="products.product_upsert").exists()


def test_categories_then_products_are_upserted_and_the_same_request_twice_changes_nothing(erp):
    categories = {
        "categories": [
            {"code": "KF", "name": "咖啡", "parent_code": "YIN"},
            {"code": "YIN", "name": "饮品"},
        ]
    }
    assert erp.post(CATEGORIES, categories).json() == {"created": 2, "updated": 0, "unchanged": 0}
    products = {
        "products": [
            {"sku": "K001", "name": "美式咖啡", "category_code": "KF", "unit": "杯", "price": "22"},
            {"sku": "K002", "name": "拿铁", "category_code": "KF"},
        ]
    }
    first = erp.post(PRODUCTS, products)
    assert first.status_code == 200
    assert first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    again = erp.post(PRODUCTS, products).json()
    assert again == {"created": 0, "updated": 0, "unchanged": 2}
    products["products"][1]["name"] = "拿铁（大杯）"
    assert erp.post(PRODUCTS, products).json() == {"created": 0, "updated": 1, "unchanged": 1}
    assert Product.objects.get(sku="K002").name == "拿铁（大杯）"
    assert Category.objects.get(code="KF").parent.code == "YIN"
    entry = AuditEntry.objects.filter(action="products.product_upsert").first()
    assert entry.actor_name == "api:总部ERP"


def test_the_same_idempotency_key_returns_the_first_answer(erp):
    body = {"products": [{"sku": "K001", "name": "美式咖啡"}]}
    first = erp.post(PRODUCTS, body, idempotency_key="k-1")
    second = erp.post(PRODUCTS, body, idempotency_key="k-1")
    assert first.json() == second.json() == {"created": 1, "updated": 0, "unchanged": 0}


@pytest.mark.parametrize(
    "body, code, words",
    [
        ({"products": []}, "invalid_request", ""),
        ({"products": [{"sku": "K 1", "name": "美式"}]}, "invalid_request", ""),
        ({"products": [{"sku": "K1", "name": "美式", "price": "-1"}]}, "invalid_request", ""),
        (
            {"products": [{"sku": "K1", "name": "美式", "category_code": "NOPE"}]},
            "product_refused",
            "第1条：食品类别编码NOPE不存在",
        ),
        (
            {"products": [{"sku": "K1", "name": "美式"}, {"sku": "K1", "name": "美式"}]},
            "product_refused",
            "第2条：食品编码K1在本次请求中重复",
        ),
    ],
)
def test_bad_input_is_refused_in_chinese_and_writes_nothing(erp, body, code, words):
    response = erp.post(PRODUCTS, body)
    error = response.json()["error"]
    assert 400 <= response.status_code < 500 and error["code"] == code
    assert words in error["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert not Product.objects.exists()


def test_a_child_of_a_child_is_refused(erp):
    body = {
        "categories": [
            {"code": "YIN", "name": "饮品"},
            {"code": "KF", "name": "咖啡", "parent_code": "YIN"},
            {"code": "MS", "name": "美式", "parent_code": "KF"},
        ]
    }
    error = erp.post(CATEGORIES, body).json()["error"]
    assert error["code"] == "product_refused" and "最多两级" in error["message"]
    assert not Category.objects.exists()


def test_products_are_listed_a_page_at_a_time_and_by_category(erp):
    drinks = CategoryFactory(code="YIN", name="饮品")
    coffee = CategoryFactory(code="KF", name="咖啡", parent=drinks)
    for n in range(5):
        ProductFactory(sku=f"K00{n}", category=coffee)
    ProductFactory(sku="D001", category=CategoryFactory(code="ZS"))
    page = erp.get(f"{PRODUCTS}?limit=2").json()
    assert [p["sku"] for p in page["products"]] == ["D001", "K000"]
    assert page["next_after"] == "K000"
    rest = erp.get(f"{PRODUCTS}?limit=10&after=K000&category_code=YIN").json()
    assert [p["sku"] for p in rest["products"]] == ["K001", "K002", "K003", "K004"]
    assert rest["next_after"] is None and rest["products"][0]["category_code"] == "KF"
    listed = erp.get(CATEGORIES).json()
    assert {c["code"]: c["parent_code"] for c in listed} == {"KF": "YIN", "YIN": "", "ZS": ""}


def test_the_contract_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/products"])
    assert {"get", "post"} <= set(paths["/api/v1/product-categories"])
