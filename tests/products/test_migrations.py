"""The data migrations that move free text onto the product master keep every value: a SKU or a
category the master does not know is added to it, never dropped."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("products", "0001_product_master"),
    ("coupons", "0007_merge_list_indexes"),
    ("redemption", "0008_merge_words_backoffice"),
    ("promocodes", "0003_constraint_messages"),
]
AFTER = [
    ("coupons", "0010_rule_product_master_drop_text"),
    ("redemption", "0010_product_master_drop_sku"),
    ("promocodes", "0005_category_from_product_master_drop_own"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_free_text_products_and_categories_become_master_rows():
    old = _migrate(BEFORE)
    try:
        Org = old.get_model("core", "Org")
        group = Org.objects.create(kind="group", code="G1", name="集团", path="/g1/")
        Product = old.get_model("products", "Product")
        Category = old.get_model("products", "Category")
        Product.objects.create(sku="6901234500042", name="煎药费")
        Category.objects.create(code="CFY", name="处方药")
        Rule = old.get_model("coupons", "CouponRule")
        common = {"creating_org": group, "status": "draft", "total": 0, "numeric_length": 0}
        known = Rule.objects.create(
            code="R1",
            name="煎药券",
            benefit="product",
            exchange_product_sku="6901234500042",
            exchange_product_name="煎药费1付",
            **common,
        )
        unknown = Rule.objects.create(
            code="R2",
            name="美式券",
            benefit="product",
            exchange_product_sku="K001",
            exchange_product_name="美式咖啡",
            **common,
        )
        cash = Rule.objects.create(
            code="R3",
            name="满300减20",
            benefit="cash",
            excluded_categories=["处方药", "保健品", "CFY"],
            **common,
        )
        Activity = old.get_model("redemption", "OutsideActivity")
        activity = Activity.objects.create(
            org=group,
            name="鱼香肉丝兑换券",
            coupon_type="item",
            sku="D001",
            sku_name="鱼香肉丝",
            valid_from="2026-01-01",
            valid_to="2026-12-31",
        )
        Merchant = old.get_model("promocodes", "Merchant")
        PromoCategory = old.get_model("promocodes", "Category")
        merchant = Merchant.objects.create(code="JSH", name="聚食汇")
        snack = PromoCategory.objects.create(merchant=merchant, code="SNACK", name="休闲零食")

        new = _migrate(AFTER)
        Rule = new.get_model("coupons", "CouponRule")
        Product = new.get_model("products", "Product")
        assert Rule.objects.get(pk=known.pk).exchange_product.name == "煎药费"  # the master's
        added = Rule.objects.get(pk=unknown.pk).exchange_product
        assert (added.sku, added.name) == ("K001", "美式咖啡")
        names = set(Rule.objects.get(pk=cash.pk).excluded_categories.values_list("name", flat=True))
        assert names == {"处方药", "保健品"}  # 处方药 by name and by code is one category
        assert (
            new.get_model("redemption", "OutsideActivity").objects.get(pk=activity.pk).product.name
            == "鱼香肉丝"
        )
        assert new.get_model("products", "Category").objects.filter(code="SNACK").exists()
        assert Product.objects.filter(sku="D001").exists()
        assert snack  # its applications now point at the master's SNACK
    finally:
        _migrate(
            [(app, name) for app, name in MigrationExecutor(connection).loader.graph.leaf_nodes()]
        )
