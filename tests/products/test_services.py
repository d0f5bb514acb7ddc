"""The product master's writes: one category or food at a time (pages), and the API's bulk
upserts, all or nothing."""

from decimal import Decimal

import pytest

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry
from products import selectors, services
from products.models import Category, Product
from tests.products.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_a_category_is_two_levels_at_most():
    drinks = services.save_category(actor=None, category=Category(code="YIN", name="饮品"))
    coffee = services.save_category(
        actor=None, category=Category(code="KF", name="咖啡", parent=drinks)
    )
    with pytest.raises(Refused, match="已是二级类别，食品类别最多两级"):
        services.save_category(actor=None, category=Category(code="MS", name="美式", parent=coffee))
    drinks.parent = CategoryFactory()
    with pytest.raises(Refused, match="下已有子类别"):
        services.save_category(actor=None, category=drinks)
    assert coffee.label == "饮品 / 咖啡"
    assert AuditEntry.objects.filter(action="products.category_create").count() == 2


def test_codes_are_unique_and_named_in_the_refusal():
    ProductFactory(sku="D001")
    with pytest.raises(Refused, match="食品编码：D001已存在"):
        services.save_product(actor=None, product=Product(sku="D001", name="鱼香肉丝"))
    with pytest.raises(Refused, match="食品编码：应为"):
        services.save_product(actor=None, product=Product(sku="鱼香 肉丝", name="鱼香肉丝"))
    with pytest.raises(Refused, match="售价"):
        services.save_product(
            actor=None, product=Product(sku="D002", name="宫保鸡丁", price=Decimal("-1"))
        )


def test_disable_and_enable_once_each_with_audit():
    food = ProductFactory()
    services.set_product_enabled(actor=None, product=food, enabled=False)
    with pytest.raises(Refused, match="已禁用"):
        services.set_product_enabled(actor=None, product=food, enabled=False)
    assert not Product.objects.get(pk=food.pk).enabled
    assert food not in selectors.search_products(food.sku)
    assert AuditEntry.objects.filter(action="products.product_disable").count() == 1


def test_upsert_categories_takes_parents_from_the_same_request_and_is_idempotent():
    rows = [
        services.CategoryData(code="KF", name="咖啡", parent_code="YIN"),
        services.CategoryData(code="YIN", name="饮品"),
    ]
    assert services.upsert_categories(actor=None, rows=rows) == services.Upserted(2, 0, 0)
    assert services.upsert_categories(actor=None, rows=rows) == services.Upserted(0, 0, 2)
    assert Category.objects.get(code="KF").parent.code == "YIN"
    renamed = [services.CategoryData(code="YIN", name="饮料")]
    assert services.upsert_categories(actor=None, rows=renamed) == services.Upserted(0, 1, 0)


def test_upsert_products_is_all_or_nothing_and_idempotent():
    CategoryFactory(code="ZS", name="主食")
    rows = [
        services.ProductData(sku="D001", name="鱼香肉丝", category_code="ZS", price=Decimal("38")),
        services.ProductData(sku="D002", name="宫保鸡丁", category_code="ZS"),
    ]
    assert services.upsert_products(actor=None, rows=rows) == services.Upserted(2, 0, 0)
    assert services.upsert_products(actor=None, rows=rows) == services.Upserted(0, 0, 2)
    bad = [
        services.ProductData(sku="D003", name="扬州炒饭", category_code="ZS"),
        services.ProductData(sku="D004", name="米饭", category_code="NOPE"),
    ]
    with pytest.raises(Refused, match="第2条：食品类别编码NOPE不存在"):
        services.upsert_products(actor=None, rows=bad)
    assert not Product.objects.filter(sku="D003").exists()
    with pytest.raises(Refused, match="第2条：食品编码D001在本次请求中重复"):
        services.upsert_products(actor=None, rows=[rows[0], rows[0]])
    assert Product.objects.get(sku="D001").price == Decimal("38.00")


def test_order_side_reads_categories_by_sku_and_sub_categories():
    drinks = CategoryFactory(code="YIN", name="饮品")
    coffee = CategoryFactory(code="KF", name="咖啡", parent=drinks)
    ProductFactory(sku="K001", category=coffee)
    ProductFactory(sku="X001", category=None)
    assert selectors.categories_of_skus(["K001", "X001", "UNKNOWN"]) == {"K001": "KF"}
    assert selectors.category_keys([drinks.pk]) == {drinks.pk: {"YIN", "饮品", "KF", "咖啡"}}
