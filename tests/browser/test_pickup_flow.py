"""A consumer redeems a gift card on a phone and chooses store pickup; the store manager of 380
verifies the order in the back office. Screenshots of both."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from pickup.models import PickupCode, PickupOrder
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_consumer_picks_up_in_store_and_the_manager_verifies(demo, phone_page, page, live_server):
    code = (
        PickupCode.objects.filter(status="unused", orders__isnull=True, red_packet_amount=0)
        .select_related("card_type")
        .order_by("serial")
        .first()
    )
    # the QR link opens the page with the code filled in
    phone_page.goto(f"{live_server.url}/pickup/c/{code.code}/")
    assert phone_page.input_value("#id_code") == code.code
    screenshot(phone_page, "pickup-1-phone-code")
    phone_page.fill("#id_password", "00000000" if code.password != "00000000" else "11111111")
    phone_page.click("button[type=submit]")
    assert "提货码或密码错误" in phone_page.inner_text("#problem")
    phone_page.fill("#id_password", code.password)
    phone_page.click("button[type=submit]")
    phone_page.wait_for_url("**/pickup/c/card/")
    assert code.card_type.name in phone_page.inner_text("h1")
    phone_page.check("input[name=kind][value=store]")
    assert phone_page.locator("#row-store").is_visible()
    assert not phone_page.locator("#row-address").is_visible()
    phone_page.fill("#id_name", "赵敏")
    phone_page.fill("#id_phone", "13911112222")
    phone_page.select_option("#id_store", label="蓝港店（北京市朝阳区朝阳公园路6号蓝色港湾）")
    assert phone_page.input_value("#id_pickup_date") == timezone.localdate().isoformat()
    screenshot(phone_page, "pickup-2-phone-choose-store")
    phone_page.click("button[type=submit]")
    phone_page.wait_for_url("**/pickup/c/order/**")
    order = PickupOrder.objects.get(code=code)
    assert phone_page.inner_text("#order-no") == order.order_no
    assert phone_page.inner_text("#order-status") == "待提货"
    assert "蓝港店" in phone_page.inner_text("main")
    # nothing sticks out sideways on a phone
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "pickup-3-phone-order")

    log_in(page, live_server, "manager")
    page.click("text=门店自提订单")
    assert order.order_no in page.inner_text("table")
    page.fill("#v-order", order.order_no)
    page.fill("#v-phone", "13911112222")
    page.click("text=核销 >> nth=-1")
    page.wait_for_selector("#order-status")
    assert page.inner_text("#order-status") == "已提货"
    assert "核销成功" in page.inner_text(".messages")
    screenshot(page, "pickup-4-manager-verified")
    order.refresh_from_db()
    assert order.status == "completed" and order.handled_by.username == "manager"

    phone_page.reload()
    assert phone_page.inner_text("#order-status") == "已提货"
