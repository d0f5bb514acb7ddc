"""The product master's back-office pages and the pickers other forms take from it."""

import pytest
from django.urls import reverse

from couponhub.core.models import AuditEntry, RoleAssignment
from products.models import Category, Product
from tests.coupons.factories import CouponRuleFactory
from tests.factories import OrgFactory, StoreFactory, user_with_role
from tests.products.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role


@pytest.fixture
def group():
    return OrgFactory()


@pytest.fixture
def operator(client, group):
    user = user_with_role(Role.OPERATOR, group)
    client.force_login(user)
    return user


def test_the_list_filters_by_text_category_with_its_sub_categories_and_status(client, operator):
    drinks = CategoryFactory(code="YIN", name="饮品")
    coffee = CategoryFactory(code="KF", name="咖啡", parent=drinks)
    ProductFactory(sku="K001", name="美式咖啡", category=coffee)
    ProductFactory(sku="D001", name="鱼香肉丝", category=CategoryFactory(code="ZS", name="主食"))
    ProductFactory(sku="K009", name="停售咖啡", category=coffee, enabled=False)
    url = reverse("products:products")
    page = client.get(url).content.decode()
    assert "美式咖啡" in page and "鱼香肉丝" in page and "饮品 / 咖啡" in page
    by_category = client.get(url, {"category": drinks.pk}).content.decode()
    assert "美式咖啡" in by_category and "鱼香肉丝" not in by_category
    by_text = client.get(url, {"q": "鱼香"}).content.decode()
    assert "鱼香肉丝" in by_text and "美式咖啡" not in by_text
    enabled = client.get(url, {"enabled": "1"}).content.decode()
    assert "停售咖啡" not in enabled and "美式咖啡" in enabled
    empty = client.get(url, {"q": "没有这个"}).content.decode()
    assert "暂无数据" in empty


def test_operator_adds_edits_and_disables_a_food_with_audit(client, operator):
    category = CategoryFactory(code="ZS", name="主食")
    response = client.post(
        reverse("products:product_create"),
        {"sku": "D001", "name": "鱼香肉丝", "category": category.pk, "unit": "份", "price": "38"},
    )
    assert response.status_code == 302
    food = Product.objects.get(sku="D001")
    again = client.post(reverse("products:product_create"), {"sku": "D001", "name": "重复"})
    assert "食品编码：D001已存在" in again.content.decode()
    client.post(
        reverse("products:product_edit", args=[food.pk]),
        {"sku": "D001", "name": "鱼香肉丝（大份）", "category": category.pk, "price": "48"},
    )
    client.post(reverse("products:product_enabled", args=[food.pk, 0]))
    food.refresh_from_db()
    assert food.name == "鱼香肉丝（大份）" and not food.enabled
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "products.product_create",
        "products.product_update",
        "products.product_disable",
    } <= actions


def test_operator_adds_a_second_level_category(client, operator):
    drinks = CategoryFactory(code="YIN", name="饮品")
    response = client.post(
        reverse("products:category_create"), {"code": "KF", "name": "咖啡", "parent": drinks.pk}
    )
    assert response.status_code == 302
    assert Category.objects.get(code="KF").parent == drinks
    page = client.get(reverse("products:categories")).content.decode()
    assert "咖啡" in page and "饮品" in page


def test_finance_reads_but_cannot_change_and_a_clerk_sees_nothing(client, group):
    food = ProductFactory()
    client.force_login(user_with_role(Role.FINANCE, group))
    assert client.get(reverse("products:products")).status_code == 200
    assert client.get(reverse("products:product_create")).status_code == 403
    assert client.post(reverse("products:product_enabled", args=[food.pk, 0])).status_code == 403
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    for name in ("products:products", "products:categories", "products:search"):
        assert client.get(reverse(name)).status_code == 403


def test_an_unknown_food_or_category_is_404(client, operator):
    assert client.get(reverse("products:product_edit", args=[999999])).status_code == 404
    assert client.get(reverse("products:category_edit", args=[999999])).status_code == 404
    assert client.post(reverse("products:product_enabled", args=[999999, 0])).status_code == 404


def test_the_search_finds_enabled_foods_by_code_or_name_twenty_at_most(client, operator):
    for n in range(30):
        ProductFactory(sku=f"K{n:03d}", name=f"咖啡{n}")
    ProductFactory(sku="X001", name="停售咖啡", enabled=False)
    results = client.get(reverse("products:search"), {"q": "咖啡"}).json()["results"]
    assert len(results) == 20 and all("停售" not in r["text"] for r in results)
    by_code = client.get(reverse("products:search"), {"q": "k029"}).json()["results"]
    assert by_code == [{"value": Product.objects.get(sku="K029").pk, "text": "K029 咖啡29"}]


# --- the pickers of other forms -------------------------------------------------------------


def test_the_rule_form_searches_foods_on_the_server_and_lists_master_categories(
    client, operator, group
):
    for n in range(50):
        ProductFactory(sku=f"P{n:03d}", name=f"食品{n}")
    drinks = CategoryFactory(code="YIN", name="饮品")
    CategoryFactory(code="KF", name="咖啡", parent=drinks)
    page = client.get(reverse("coupons:rule_create")).content.decode()
    assert f'data-search-url="{reverse("products:search")}"' in page
    assert "P001 食品1" not in page  # no food is sent until the user searches
    assert "KF 饮品 / 咖啡" in page  # 不适用食品类别: every category, under its parent
    chosen = Product.objects.get(sku="P007")
    rule = CouponRuleFactory(
        creating_org=group,
        status="draft",
        benefit="product",
        face_value=None,
        exchange_product=chosen,
    )
    edit = client.get(reverse("coupons:rule_edit", args=[rule.pk])).content.decode()
    assert "P007 食品7" in edit and "P008 食品8" not in edit


def test_a_disabled_food_cannot_be_picked_for_a_new_rule(client, operator, group):
    from tests.coupons.test_rules import form_data

    gone = ProductFactory(enabled=False)
    data = form_data(group, benefit="product", face_value=None, exchange_product=gone.pk)
    response = client.post(reverse("coupons:rule_create"), data)
    assert response.status_code == 200
    assert "exchange_product" in response.context["form"].errors


def test_the_outside_activity_and_promo_forms_take_the_master(client, operator):
    CategoryFactory(code="YIN", name="饮品")
    activity_page = client.get(reverse("redemption:outside_activities")).content.decode()
    assert f'data-search-url="{reverse("products:search")}"' in activity_page
    promo_page = client.get(reverse("promocodes:create")).content.decode()
    assert "YIN 饮品" in promo_page


def test_the_search_puts_the_exact_code_first(client, operator):
    ProductFactory(sku="0001", name="A1套餐")  # the name matches, and its code sorts first
    ProductFactory(sku="A1", name="美式咖啡")
    results = client.get(reverse("products:search"), {"q": "a1"}).json()["results"]
    assert [r["text"] for r in results] == ["A1 美式咖啡", "0001 A1套餐"]
