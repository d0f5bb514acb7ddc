"""In Chromium: the operator generates a batch sold at the counter, draws its card sheets and
activates half of it; the admin registers an event subscriber and reads the delivery log."""

import pytest
from django.core.management import call_command

from couponhub.core.models import EventSubscriber, Job
from pickup.models import CodeBatch, PickupCode
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_cards_sold_at_the_counter_are_printed_and_activated(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/pickup/codes/generate/")
    page.select_option("#id_card_type", label="2388套餐")
    page.fill("#id_prefix", "SALE")
    page.fill("#id_quantity", "16")
    page.check("#id_needs_activation")
    page.get_by_role("button", name="生成", exact=True).click()
    page.wait_for_url("**/jobs/**")
    batch = CodeBatch.objects.get(prefix="SALE")
    assert batch.needs_activation

    page.goto(f"{live_server.url}/pickup/codes/print/")
    page.select_option("#id_batch", value=str(batch.pk))
    page.check("#id_package")
    screenshot(page, "print-1-form")
    page.get_by_role("button", name="生成印刷文件").click()
    page.wait_for_url("**/jobs/**")
    job = Job.objects.get(kind="pickup.print_cards")
    assert job.status == Job.Status.SUCCEEDED and job.result["卡片"] == 16
    screenshot(page, "print-2-job")

    page.goto(f"{live_server.url}/pickup/codes/activation/")
    page.fill("#id_serial_from", str(batch.serial_start))
    page.fill("#id_serial_to", str(batch.serial_start + 7))
    page.locator("section").get_by_role("button", name="确定").click()
    page.wait_for_url("**/pickup/codes/activation/")
    assert "已激活8张提货卡" in page.inner_text("body")
    screenshot(page, "print-3-activation")
    assert PickupCode.objects.filter(batch=batch, activated=True).count() == 8


def test_the_admin_registers_a_subscriber_and_reads_the_log(demo, page, live_server):
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/events/subscribers/")
    page.fill("#id_name", "ERP")
    page.fill("#id_url", "https://erp.example.cn/hooks/couponhub")
    page.check("input[value='coupon.redeemed']")
    page.check("input[value='pickup_order.shipped']")
    page.get_by_role("button", name="添加").click()
    assert EventSubscriber.objects.filter(name="ERP").exists()
    screenshot(page, "events-1-subscribers")
    page.goto(f"{live_server.url}/events/deliveries/")
    screenshot(page, "events-2-log")
