import pytest
from django.core.management import call_command

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.parametrize(
    ("username", "panels"),
    [
        ("clerk", ["今日门店核销"]),
        ("manager", ["今日门店核销", "本店近7天", "门店待自提"]),
        ("operator", ["后台任务与短信余额", "券注册发行", "提货订单与红包"]),
        ("finance", ["待审核券规则", "审批与预算"]),
        ("hq", ["集团经营概览"]),
        ("admin", ["锁定与错误", "API客户端"]),
    ],
)
def test_each_role_lands_on_its_dashboard(demo, page, live_server, username, panels):
    log_in(page, live_server, username)
    titles = page.locator(".dashboard-panel h2").all_inner_texts()
    for title in panels:
        assert any(t.startswith(title) for t in titles), (title, titles)
    screenshot(page, f"dashboard-{username}")
