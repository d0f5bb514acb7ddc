"""As the demo clerk: a member opened from the counter lookup, a coupon claimed and one exchanged
for U-value on the member page, the claimed coupon redeemed at the counter."""

import re

import pytest
from django.core.management import call_command

from couponhub.core.models import SmsMessage
from coupons.models import Coupon
from members.models import Member
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_clerk_claims_exchanges_and_redeems_for_a_member(demo, page, live_server):
    member = Member.objects.get(phone="17700000516")
    u_before = member.u_value
    log_in(page, live_server, "clerk")
    page.goto(f"{live_server.url}/redemption/lookup/?q=17700000516")
    with page.expect_navigation():
        page.click("a.member-detail-link")
    assert "会员详情" in page.inner_text("h1")
    assert "177****0516" in page.inner_text("#profile")
    screenshot(page, "member-detail-1")

    # the demo member already holds five of these: refused with the rule's reason
    page.select_option("#claim-rule", label="订单满300元减20元优惠券")
    with page.expect_navigation():
        page.click("#coupons form:has(#claim-rule) button")
    assert "每人限领5张，已达上限" in page.inner_text(".messages")
    screenshot(page, "member-detail-claim-refused")
    page.select_option("#claim-rule", label="全场9.5折券")
    with page.expect_navigation():
        page.click("#coupons form:has(#claim-rule) button")
    notice = page.inner_text(".messages")
    assert "已领券：全场9.5折券" in notice
    claimed = re.search(r"券码(\w+)", notice).group(1)

    option = page.locator("#exchange-rule option", has_text="1付药-指定门店可用").inner_text()
    assert f"2000U · 兑换后余额{u_before - 2000}U" in option
    page.select_option("#exchange-rule", label=option)
    page.click("#coupons form:has(#exchange-rule) button")
    with page.expect_navigation():  # asked in the page's confirmation popover
        page.locator(".popconfirm").get_by_role("button", name="确定").click()
    assert f"扣除2000U，U享值余额{u_before - 2000}U" in page.inner_text(".messages")
    screenshot(page, "member-detail-2-after-exchange")
    member.refresh_from_db()
    assert member.u_value == u_before - 2000

    with page.expect_navigation():
        page.click("text=到会员信息查询核销")
    screenshot(page, "member-detail-to-counter")
    page.wait_for_selector("#redeem-select")
    page.locator(f".coupon-check[aria-label$='{claimed}']").check()
    page.click("#redeem-submit")
    page.wait_for_selector("#sms-code")
    message = SmsMessage.objects.filter(purpose="redeem_code", phone="17700000516").first()
    page.fill("#sms-code", re.search(r"验证码为(\d{6})", message.text).group(1))
    page.keyboard.press("Enter")
    page.wait_for_selector("#link-form")
    page.click("#skip-link")
    page.wait_for_selector("#receipt")
    assert claimed in page.inner_text("#receipt")
    assert Coupon.objects.get(code=claimed).status == "used"

    page.goto(f"{live_server.url}/redemption/members/{member.pk}/")
    assert claimed in page.inner_text("#redemptions")
    screenshot(page, "member-detail-3-redeemed")
