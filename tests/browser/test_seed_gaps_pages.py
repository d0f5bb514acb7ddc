"""The pages of issue 16 in Chromium on the demo data: the counter's member card (stored value,
recharge number, order chosen before the SMS check), the records with an outside-coupon row,
the 票券档案 and the coupon rules' review queue. Screenshots in var/screenshots/."""

import pytest
from django.core.management import call_command

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_counter_and_the_records(demo, page, live_server):
    log_in(page, live_server, "clerk")
    page.goto(f"{live_server.url}/redemption/lookup/?q=17700000516")
    page.wait_for_selector("#redeem-select")
    assert page.inner_text("#stored-value").startswith("¥")
    assert page.locator("#recharge-form").is_visible()
    assert "暂不关联订单" in page.inner_text("#redeem-order")
    assert "J880009" in page.inner_text("#outside-wallet")
    screenshot(page, "seeds-1-member-card")

    page.fill("#recharge-number", "12")
    page.click("#recharge-form button")  # the browser's own pattern check stops it
    assert page.url.endswith("/redemption/lookup/?q=17700000516")
    page.goto(f"{live_server.url}/redemption/records/")
    assert "全业态" in page.inner_text("form.filters")
    screenshot(page, "seeds-2-records")


def test_the_outside_archive_and_the_rule_review(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/redemption/outside/archive/")
    table = page.inner_text("#outside-archive")
    assert "J880001" in table and "501-" in table
    screenshot(page, "seeds-3-outside-archive")

    page.context.clear_cookies()
    log_in(page, live_server, "clerk2")  # 聚食汇国贸店 501 redeemed J880001
    page.goto(f"{live_server.url}/redemption/records/?code=j880001")
    assert "J880001" in page.inner_text(".records-table")
    screenshot(page, "seeds-4-records-outside-row")

    page.context.clear_cookies()
    log_in(page, live_server, "finance")
    page.goto(f"{live_server.url}/coupons/rules/review/")
    assert "待审核" in page.inner_text("nav.coupon-tabs")
    screenshot(page, "seeds-5-rule-review")
