import pytest
from django.core.management import call_command

from messaging.models import MemberMessage
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_an_operator_exports_a_rules_coupons(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/coupons/?rule__code=YHQ-FG-24000001")
    screenshot(page, "export-coupon-list")
    page.click("text=导出Excel")
    page.wait_for_url("**/jobs/*/")
    assert "优惠券列表导出" in page.inner_text("h1")
    page.wait_for_selector(".job-download:not([hidden])")
    screenshot(page, "export-coupons-done")


def test_an_operator_sees_the_cost_then_sends_a_member_message(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(live_server.url + "/messages/")  # a long menu keeps other groups closed
    page.check("input[name=selection][value=level]")
    page.fill("#id_level", "钻石级")
    page.fill("#id_text", "周末会员日全场9折")
    with page.expect_navigation():
        page.click("text=计算人数与费用")
    assert page.inner_text("#message-text") == "周末会员日全场9折 回T退订"
    assert "¥" in page.inner_text("#estimated-cost")
    screenshot(page, "member-message-cost")
    page.click("button:has-text('发送')")
    page.locator(".popconfirm").get_by_role("button", name="确定").click()
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector(".job-download, .progress", state="attached")
    message = MemberMessage.objects.get()
    screenshot(page, "member-message-sending")
    assert message.recipients >= 1
