"""Member tags in the browser: an operator defines a tag, puts it on ticked members of the member
list, filters the list by it, changes one member's tags on the member page and prices a member
message to the tag's members."""

import pytest
from django.core.management import call_command

from members.models import Member
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_an_operator_tags_members_and_messages_them(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/members/tags/")
    page.fill("#id_name", "高价值")
    page.fill("#id_note", "近一年消费满5000元")
    with page.expect_navigation():
        page.click("button:has-text('添加')")
    assert "已添加标签“高价值”" in page.inner_text(".messages")
    screenshot(page, "tags-1-list")

    page.goto(f"{live_server.url}/members/")
    first_two = page.locator("tbody input[name=selection]")
    first_two.nth(0).check()
    first_two.nth(1).check()
    page.locator("#apply-tag").select_option(label="高价值")
    page.click("button:has-text('加标签')")
    screenshot(page, "tags-2-confirm")
    with page.expect_navigation():
        page.locator(".popconfirm").get_by_role("button", name="确定").click()
    assert "已给2位会员加上标签“高价值”" in page.inner_text(".messages")
    screenshot(page, "tags-3-tagged")

    tagged = list(Member.objects.filter(tags__name="高价值").order_by("pk"))
    assert len(tagged) == 2
    page.goto(f"{live_server.url}/members/?tag={tagged[0].tags.get().pk}")
    rows = page.locator("tbody tr").count()
    assert rows == 2 and page.locator("tbody .tag", has_text="高价值").count() == 2

    page.goto(f"{live_server.url}/redemption/members/{tagged[0].pk}/")
    assert "高价值" in page.inner_text("#tags")
    screenshot(page, "tags-4-member")

    page.goto(f"{live_server.url}/messages/")
    page.check("input[name=selection][value=tag]")
    page.locator("#id_tag").select_option(label="高价值")
    page.fill("#id_text", "高价值会员专享：本周末全场9折")
    with page.expect_navigation():
        page.click("button:has-text('计算')")
    assert "会员标签：高价值" in page.inner_text("main")
    assert page.inner_text("#recipients").strip() == "2"
    screenshot(page, "tags-5-message")
