"""The product master in Chromium at 1366×768: the 食品基础资料 list, and the coupon rule form's
抵换食品 picked by searching the server (the page never carries the whole master) and
不适用食品类别 from the master's categories."""

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from coupons.models import CouponRule
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots/products")


def _shot(page, name):
    path = screenshot(page, name)
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_food_list_and_the_rule_forms_pickers(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}{reverse('products:products')}")
    assert page.locator("h1").inner_text() == "食品基础资料"
    rows = page.locator("table tbody tr")
    assert rows.count() >= 10 and "饮品 / 咖啡" in page.locator("table").inner_text()
    _shot(page, "products-list")
    page.goto(f"{live_server.url}{reverse('products:categories')}")
    assert "饮品" in page.locator("table").inner_text()
    _shot(page, "products-categories")
    page.goto(f"{live_server.url}{reverse('products:import')}")
    _shot(page, "products-import")
    page.goto(f"{live_server.url}{reverse('redemption:outside_activities')}")
    _shot(page, "outside-activity-food-picker")

    page.goto(f"{live_server.url}{reverse('coupons:rule_create')}")
    page.fill("#id_name", "鱼香肉丝兑换券")
    page.select_option("#id_benefit", "product")
    control = page.locator("#id_exchange_product + .ts-wrapper .ts-control")
    control.click()
    page.keyboard.type("鱼香")
    option = page.locator("#id_exchange_product-ts-dropdown .option", has_text="D001 鱼香肉丝")
    option.wait_for()
    assert page.locator("#id_exchange_product-ts-dropdown .option").count() == 1
    _shot(page, "rule-form-food-picker")
    option.click()
    assert "D001 鱼香肉丝" in control.inner_text()
    page.locator("button[value=draft]").click()
    page.wait_for_url("**/coupons/rules/*/")
    rule = CouponRule.objects.get(name="鱼香肉丝兑换券")
    assert rule.exchange_product.sku == "D001"
    assert "D001 鱼香肉丝" in page.locator("main, .content").first.inner_text()

    # a cash rule's 不适用食品类别: several categories of the master, each under its parent
    page.goto(f"{live_server.url}{reverse('coupons:rule_edit', args=[rule.pk])}")
    page.select_option("#id_benefit", "cash")
    categories = page.locator("#id_excluded_categories + .ts-wrapper .ts-control")
    categories.click()
    page.keyboard.type("咖啡")
    page.locator("#id_excluded_categories-ts-dropdown .option", has_text="饮品 / 咖啡").click()
    page.keyboard.press("Escape")
    _shot(page, "rule-form-excluded-categories")
    page.fill("#id_face_value", "10")
    page.locator("button[value=draft]").click()
    page.wait_for_url("**/coupons/rules/*/")
    rule.refresh_from_db()
    assert list(rule.excluded_categories.values_list("code", flat=True)) == ["KF"]
    assert rule.exchange_product is None  # cleared by the benefit: only 食品券 have one
