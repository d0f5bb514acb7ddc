"""An operator tops up the red-packet account (QR code, payment confirmed by the development
backend's notice), is told why a generation over the balance is refused, generates red packets as
a background job, and sees a parcel signed for on an order page. Screenshots of each."""

import pytest
from django.core.management import call_command

from pickup import services, tracking
from pickup.models import CodeBatch, Courier, PickupCode, PickupOrder, RedPacketAccount
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_top_up_then_generate_red_packets_then_a_signed_parcel(demo, page, live_server):
    log_in(page, live_server, "operator")
    before = RedPacketAccount.load().balance
    page.goto(f"{live_server.url}/pickup/red-packets/account/")
    page.fill("#id_amount", "100.00")
    page.click("form[action*=top-up] button[type=submit]")
    page.wait_for_url("**/pickup/payments/**")
    assert page.inner_text("#payment-status") == "等待支付"
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0
    screenshot(page, "pickup2-1-top-up-qr")
    page.click("text=模拟支付成功")
    assert page.inner_text("#payment-status") == "已支付"
    screenshot(page, "pickup2-2-top-up-paid")
    assert RedPacketAccount.load().balance == before + 100
    page.click("text=返回账户")
    assert "已支付" in page.inner_text(".top-up-orders")
    screenshot(page, "pickup2-2b-account-with-top-up")
    page.goto(f"{live_server.url}/pickup/settings/")
    assert page.input_value("#id_admin_phones") == "13800000001"
    screenshot(page, "pickup2-2c-settings-admin-phones")

    batch = CodeBatch.objects.order_by("pk").first()
    free = PickupCode.objects.filter(batch=batch, status="unused", red_packet_amount=0).count()
    page.goto(f"{live_server.url}/pickup/red-packets/generate/")
    page.select_option("#id_batch", str(batch.pk))
    page.fill("#id_low", "199.00")
    page.fill("#id_high", "200.00")
    page.click("text=预览")
    refusal = page.inner_text("#rp-refusal")
    assert "不足以给" in refusal and f"{free:,}个提货码" in refusal
    screenshot(page, "pickup2-3-generate-refused")
    page.fill("#id_low", "0.01")
    page.fill("#id_high", "0.01")
    page.click("text=预览")
    assert page.inner_text(".preview-count") == str(free)
    page.click("button[name=confirm]")
    page.wait_for_url("**/jobs/**")
    page.wait_for_selector("text=已完成")
    screenshot(page, "pickup2-4-generate-job")
    assert PickupCode.objects.filter(batch=batch, red_packet_amount__gt=0).count() >= free

    order = PickupOrder.objects.filter(kind="online", status="pending", deleted_at=None).first()
    services.ship_order(
        actor=None,
        order=order,
        courier=Courier.objects.get(code="SF"),
        tracking_no="SF1400213370566",
    )
    tracking.RecordingBackend.parcels["SF1400213370566"] = tracking.TrackingResult(
        "signed", "已签收，签收人：本人"
    )
    try:
        services.track_shipped_orders()
    finally:
        tracking.RecordingBackend.clear()
    page.goto(f"{live_server.url}/pickup/orders/{order.pk}/")
    assert page.inner_text("#order-status") == "已完成"
    assert "已签收" in page.inner_text("#parcel-status")
    screenshot(page, "pickup2-5-order-signed")
