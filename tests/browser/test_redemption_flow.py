"""The counter flow in Chromium as the demo clerk: lookup → select → SMS code → order → receipt,
then the redemption records with 退券."""

import re

import pytest
from django.core.management import call_command

from couponhub.core.models import SmsMessage
from coupons.models import Coupon
from redemption.models import Redemption
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def sms_code() -> str:
    message = SmsMessage.objects.filter(purpose="redeem_code", phone="17700000516").first()
    return re.search(r"验证码为(\d{6})", message.text).group(1)


def test_the_clerk_redeems_two_coupons_with_an_sms_code_and_links_an_order(demo, page, live_server):
    log_in(page, live_server, "clerk")
    page.goto(f"{live_server.url}/redemption/lookup/")
    assert page.evaluate("document.activeElement.id") == "member-q"
    page.keyboard.type("17700000516")
    page.keyboard.press("Enter")
    page.wait_for_selector("#redeem-select")
    assert "本店可用" in page.inner_text(".coupon-tabs")
    boxes = page.locator(".coupon-check")
    assert boxes.count() >= 2
    codes = [boxes.nth(i).get_attribute("aria-label").split()[-1] for i in range(2)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert page.inner_text("#redeem-count") == "2"
    screenshot(page, "redemption-1-selected")

    page.click("#redeem-submit")
    page.wait_for_selector("#sms-code")
    assert page.evaluate("document.activeElement.id") == "sms-code"
    assert "177****0516" in page.inner_text(".dialog")
    assert page.locator("#resend").is_disabled()  # 60 s before a resend
    screenshot(page, "redemption-2-sms-code")

    page.keyboard.type("000000" if sms_code() != "000000" else "111111")
    page.keyboard.press("Enter")
    page.wait_for_selector("#sms-code-error")
    assert "验证码错误，还可以再试4次" in page.inner_text("#sms-code-error")
    screenshot(page, "redemption-3-wrong-code")

    page.fill("#sms-code", sms_code())
    page.keyboard.press("Enter")
    page.wait_for_selector("#link-form")
    dialog = page.inner_text(".dialog")
    for heading in ("订单选择", "刷新", "序号", "订单编号", "交易日期", "商品数量", "订单总金额"):
        assert heading in dialog
    assert "是否已关联优惠券" in dialog and "暂不关联订单" in dialog
    screenshot(page, "redemption-4-order-dialog")
    page.click("#refresh-orders")
    page.wait_for_selector("#link-form")
    page.locator("input[name=order]").nth(1).check()
    page.click("#do-link")
    page.wait_for_selector("#receipt")
    receipt = page.inner_text("#receipt")
    for code in codes:
        assert code in receipt
    assert "未关联订单" not in receipt
    screenshot(page, "redemption-5-receipt")
    redemption = Redemption.objects.get(member__phone="17700000516")
    assert redemption.order is not None and redemption.clerk.username == "clerk"
    assert set(Coupon.objects.filter(code__in=codes).values_list("status", flat=True)) == {"used"}

    page.goto(f"{live_server.url}/redemption/records/")
    table = page.inner_text(".records-table")
    assert codes[0] in table and "蓝港店" in table and "177****0516" in table
    screenshot(page, "redemption-6-records")
    row = page.locator("tr", has_text=codes[0])
    row.get_by_role("button", name="退券").click()
    page.locator(".popconfirm").get_by_role("button", name="确定").click()
    page.wait_for_selector(".msg-success")
    assert "已退回为未使用" in page.inner_text(".messages")
    screenshot(page, "redemption-7-returned")
    assert Coupon.objects.get(code=codes[0]).status == "unused"


def test_skipping_the_order_link_still_gives_a_receipt(demo, page, live_server):
    log_in(page, live_server, "clerk")
    page.goto(f"{live_server.url}/redemption/lookup/?q=17700000516")
    page.locator(".coupon-check").first.check()
    page.click("#redeem-submit")
    page.wait_for_selector("#sms-code")
    page.keyboard.type(sms_code())
    page.keyboard.press("Enter")
    page.click("#skip-link")
    page.wait_for_selector("#receipt")
    assert "未关联订单" in page.inner_text("#receipt")
