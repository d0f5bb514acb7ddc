"""The operator side of pickup cards in Chromium: generate a batch and watch its job, look a code
up with its QR code, export the batch to CSV from the download centre, import a GBK file with a
duplicate and a bad row. Screenshots of each step."""

import csv
import io

import pytest
from django.core.management import call_command

from pickup.models import CodeBatch, ImportRecord, PickupCode
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_operator_generates_looks_up_exports_and_imports_codes(
    demo, page, live_server, tmp_path
):
    log_in(page, live_server, "operator")
    # generate: the form, then the job page with its progress bar
    page.goto(f"{live_server.url}/pickup/codes/generate/")
    page.select_option("#id_card_type", label="2388套餐")
    page.fill("#id_prefix", "op")
    page.fill("#id_quantity", "300")
    screenshot(page, "pickup-ops-1-generate-form")
    page.get_by_role("button", name="生成", exact=True).click()
    page.wait_for_url("**/jobs/**")
    assert page.inner_text(".job-done") == "300" and page.inner_text(".job-percent") == "100"
    screenshot(page, "pickup-ops-2-generate-job")
    batch = CodeBatch.objects.get(prefix="OP")
    assert PickupCode.objects.filter(batch=batch, code__startswith="OP").count() == 300

    # look a code up: masked password, pickup URL and its QR code
    page.goto(f"{live_server.url}/pickup/?batch={batch.pk}")
    first = PickupCode.objects.filter(batch=batch).order_by("serial").first()
    page.click(f"text={first.code}")
    assert first.password not in page.content()
    assert page.inner_text(".pickup-url").endswith(f"/pickup/c/{first.code}/")
    page.wait_for_function("() => document.querySelector('img.qr').complete")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 100
    screenshot(page, "pickup-ops-3-code-detail")

    # export the batch to CSV, then download it from the job page
    page.goto(f"{live_server.url}/pickup/codes/export/")
    page.select_option("#id_batch", value=str(batch.pk))
    page.select_option("#id_file_format", value="csv")
    page.get_by_role("button", name="确定导出", exact=True).click()
    page.wait_for_url("**/jobs/**")
    screenshot(page, "pickup-ops-4-export-job")
    with page.expect_download() as download:
        page.click(".job-download a")
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["流水号", "提货码", "密码"] and len(rows) == 301
    assert rows[1][1] == first.code and rows[1][2] == first.password

    # import a GBK CSV: one new code, one already in the system, one without a password
    upload = tmp_path / "导入.csv"
    upload.write_bytes(
        f"提货码,密码\nNEWCODE0001,新密码1\n{first.code},123\nNOPASS0001,\n".encode("gbk")
    )
    page.goto(f"{live_server.url}/pickup/codes/import/")
    page.select_option("#id_card_type", label="2388套餐")
    page.set_input_files("#id_file", str(upload))
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_url("**/jobs/**")
    record = ImportRecord.objects.get()
    assert (record.imported, record.duplicates, record.invalid) == (1, 1, 1)
    assert PickupCode.objects.get(code="NEWCODE0001").password == "新密码1"
    page.goto(f"{live_server.url}/pickup/codes/import/")
    assert "导入.csv" in page.inner_text("table")
    screenshot(page, "pickup-ops-5-import-records")


def test_batch_delete_asks_first_naming_the_action_and_the_count(demo, page, live_server):
    batch = CodeBatch.objects.filter(codes__isnull=False).distinct().first()
    total = PickupCode.objects.filter(batch=batch).count()
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/pickup/codes/batch/?batch={batch.pk}")
    page.select_option("#id_action", "delete")
    page.get_by_role("button", name="确定", exact=True).click()
    asked = page.locator(".popconfirm").inner_text()  # in the page, not a browser dialog
    assert str(total) in asked and "删除" in asked
    page.locator(".popconfirm").get_by_role("button", name="取消").click()
    assert PickupCode.objects.filter(batch=batch).count() == total  # said no: nothing gone
    screenshot(page, "pickup-ops-6-batch-delete-preview")

    page.get_by_role("button", name="确定", exact=True).click()
    with page.expect_navigation():
        page.locator(".popconfirm").get_by_role("button", name="确定").click()
    page.wait_for_load_state()
    remaining = PickupCode.objects.filter(batch=batch)
    assert remaining.count() < total  # the deletable ones went; used and red-packet ones stay
    assert "csrfmiddlewaretoken" not in page.url and "action=" not in page.url
