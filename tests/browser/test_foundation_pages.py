import pytest
from django.core.management import call_command

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_login_page_focuses_the_username_and_speaks_chinese(page, live_server):
    page.goto(f"{live_server.url}/login/")
    assert page.evaluate("document.activeElement.id") == "id_username"
    assert "登录" in page.content()
    screenshot(page, "login")


@pytest.mark.parametrize(
    ("username", "must_see", "must_not_see"),
    [
        ("clerk", ["蓝港店-零售-380", "clerk"], ["审计日志", "短信账户"]),
        ("admin", ["审计日志", "短信账户", "API客户端"], []),
        ("operator", ["赵运营"], ["审计日志"]),
        ("finance", ["钱财务"], ["审计日志"]),
        ("hq", ["孙总部"], ["短信账户"]),
        ("manager", ["蓝港店-零售-380"], ["审计日志"]),
    ],
)
def test_each_demo_user_logs_in_to_their_home(
    demo, page, live_server, username, must_see, must_not_see
):
    log_in(page, live_server, username)
    text = page.inner_text("body")
    for expected in must_see:
        assert expected in text, expected
    for hidden in must_not_see:
        assert hidden not in text, hidden
    screenshot(page, f"home-{username}")


def test_clerk2_switches_store_in_the_header(demo, page, live_server):
    log_in(page, live_server, "clerk2")
    assert "聚食汇国贸店" in page.inner_text("header")
    with page.expect_navigation():
        page.select_option("#store-switch", label="聚食汇望京店-餐饮-502")
    assert "聚食汇望京店-餐饮-502" in page.locator("#store-switch option:checked").inner_text()


def test_a_wrong_password_five_times_locks_the_account(demo, page, live_server):
    for _ in range(5):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "clerk")
        page.fill("#id_password", "wrong-password")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert "账户已锁定" in page.inner_text("body")
    screenshot(page, "locked-out")


def test_the_audit_export_shows_a_progress_page_and_a_download(demo, page, live_server):
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/audit/")
    page.click("text=导出Excel")
    page.wait_for_url("**/jobs/*/")
    assert "审计日志导出" in page.inner_text("h1")
    page.wait_for_selector(".job-download:not([hidden])")
    screenshot(page, "job-done")
