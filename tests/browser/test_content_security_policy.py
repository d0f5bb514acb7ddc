"""Pages whose scripts moved out of the templates for the Content-Security-Policy still work in
Chromium, which enforces it; the conftest fails any test that sees a CSP console message."""

import pytest
from django.core.management import call_command

from couponhub.core.models import User
from pickup.models import PickupCode
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_policy_blocks_an_injected_inline_script_and_the_test_sees_it(
    demo, page, live_server, request
):
    page.goto(f"{live_server.url}/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'document.title = \"pwned\"'; document.body.append(s); }"
    )
    page.wait_for_timeout(200)
    assert page.title() != "pwned"
    seen = request.node.csp_violations
    assert seen and "script-src 'self'" in seen[0]
    seen.clear()  # expected here; any other test fails on such a message


def visible(page, name: str) -> bool:
    return page.locator(f".promo-field-{name}").is_visible()


def test_the_promo_application_form_shows_the_fields_of_the_choices(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/promocodes/new/")
    page.check("input[name=generation][value=manual]")
    assert visible(page, "manual_code") and not visible(page, "quantity")
    page.check("input[name=generation][value=auto]")
    assert visible(page, "quantity") and not visible(page, "manual_code")
    page.check("input[name=discount_type][value=threshold]")
    assert visible(page, "threshold_amount") and visible(page, "direct_amount")
    assert not visible(page, "discount_rate") and not visible(page, "cap_amount")
    page.check("input[name=discount_type][value=percent]")
    assert visible(page, "discount_rate") and visible(page, "cap_amount")
    assert visible(page, "floor_amount") and not visible(page, "threshold_amount")
    # a channel of 市场部 applied for by 到家事业部: the warning names the channel's department
    page.select_option("[name=channel]", label="微信公众号")
    page.select_option("[name=department]", label="到家事业部")
    warning = page.locator("#channel-warning")
    assert warning.is_visible()
    assert warning.inner_text() == "发放渠道所属部门与申请部门不一致： 市场部"
    screenshot(page, "promo-application-form")
    page.select_option("[name=department]", label="市场部")
    assert not warning.is_visible()


def test_select_all_ticks_every_application_of_the_list(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/promocodes/")
    boxes = page.locator("tbody input[name=selection]")
    assert boxes.count() > 1
    page.check("thead input[data-select-all]")
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    screenshot(page, "promo-applications-all-selected")
    page.uncheck("thead input[data-select-all]")
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))


def test_the_consumer_claim_form_carries_the_position(demo, phone_page, live_server):
    phone_page.context.grant_permissions(["geolocation"], origin=live_server.url)
    phone_page.context.set_geolocation({"latitude": 39.9489, "longitude": 116.4666})
    code = PickupCode.objects.filter(red_packet_amount__gt=0, orders__isnull=True).first()
    phone_page.goto(f"{live_server.url}/pickup/c/{code.code}/")
    phone_page.fill("#id_password", code.password)
    phone_page.click("button[type=submit]")
    phone_page.wait_for_url("**/pickup/c/card/")
    # online is the first choice: the address shows, the store does not
    phone_page.check("input[name=kind][value=online]")
    assert phone_page.locator("#row-address").is_visible()
    assert not phone_page.locator("#row-store").is_visible()
    phone_page.fill("#id_name", "王小二")
    phone_page.fill("#id_phone", "13912345678")
    phone_page.fill("#id_province", "北京市")
    phone_page.fill("#id_city", "北京市")
    phone_page.fill("#id_district", "朝阳区")
    phone_page.fill("#id_address", "朝阳公园路6号")
    screenshot(phone_page, "pickup-card-online")
    for box in phone_page.locator("input[name=products]").all()[: code.card_type.choose_count]:
        box.check()
    phone_page.click("button[type=submit]")
    phone_page.wait_for_url("**/pickup/c/order/**")
    phone_page.wait_for_function("document.getElementById('location').value !== ''")
    assert phone_page.input_value("#location") == "39.94890,116.46660"
    screenshot(phone_page, "pickup-order-red-packet")


def test_django_admin_pages_work_under_the_policy(demo, page, live_server):
    User.objects.create_superuser("root", password="CouponHub-2026")
    log_in(page, live_server, "root")
    page.goto(f"{live_server.url}/django-admin/")
    assert "站点管理" in page.inner_text("body") or "Django" in page.inner_text("body")
    page.goto(f"{live_server.url}/django-admin/core/org/")
    page.goto(f"{live_server.url}/django-admin/core/user/{User.objects.get(username='clerk').pk}/")
    # the role inline's org box is a select2 autocomplete (admin's own scripts and styles)
    page.locator(".select2-selection").first.click()
    page.wait_for_selector(".select2-results__option")
    screenshot(page, "django-admin-user")


def test_the_api_docs_render_from_our_own_files(page, live_server):
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "CouponHub API" in page.inner_text(".swagger-ui .info .title")
    screenshot(page, "api-docs")
