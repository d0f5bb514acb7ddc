import pytest
from django.core.management import call_command

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_an_admin_sets_up_a_store_and_a_clerk_who_then_logs_in(demo, page, live_server):
    log_in(page, live_server, "admin")
    page.click("nav >> text=组织架构")
    page.click("text=新增组织")
    page.select_option("#id_kind", "store")
    page.fill("#id_name", "三里屯店")
    page.fill("#id_code", "390")
    page.select_option("#id_parent", label="　零售（R-RETAIL）")
    page.fill("#id_address", "朝阳区三里屯路19号")
    with page.expect_navigation():
        page.click("button:has-text('保存')")
    assert "已添加三里屯店" in page.inner_text(".messages")
    assert "三里屯店" in page.inner_text("table")
    screenshot(page, "staff-org-tree")

    page.click("nav >> text=用户与角色")
    page.click("text=新增用户")
    page.fill("#id_username", "zhou_li")
    page.fill("#id_full_name", "周丽")
    page.fill("#id_phone", "13900000390")
    page.select_option("#id_role", "clerk")
    page.select_option("#id_org", label="　　三里屯店（390）")
    screenshot(page, "staff-user-new")
    with page.expect_navigation():
        page.click("button:has-text('创建用户')")
    password = page.inner_text("#temporary-password").strip()
    screenshot(page, "staff-user-created")
    page.click("text=返回用户")
    assert "店员" in page.inner_text("table") and "三里屯店" in page.inner_text("table")
    screenshot(page, "staff-user-detail")

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "zhou_li")
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/password/")
    assert "临时密码" in page.inner_text("main")
    screenshot(page, "staff-password-change")
    page.fill("#id_old_password", password)
    page.fill("#id_new_password1", "Sanlitun-390!")
    page.fill("#id_new_password2", "Sanlitun-390!")
    with page.expect_navigation():
        page.click("button:has-text('修改密码')")
    page.wait_for_url(f"{live_server.url}/")
    assert "三里屯店-零售-390" in page.inner_text("header")
    screenshot(page, "staff-clerk-first-home")


def test_the_staff_list_and_the_import_page(demo, page, live_server, tmp_path):
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/staff/users/")
    assert "clerk" in page.inner_text("table")
    screenshot(page, "staff-user-list")
    page.click("text=从Excel导入员工")
    with page.expect_download() as download:
        page.click("text=下载模板")
    template = tmp_path / "staff.xlsx"
    download.value.save_as(template)
    page.set_input_files("#id_file", str(template))
    with page.expect_navigation():
        page.click("button:has-text('导入')")
    assert "已导入1个用户" in page.inner_text("main")
    screenshot(page, "staff-import-done")
