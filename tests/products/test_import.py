"""The Excel import of 食品基础资料: the file streams through the staging table; good rows are
added or update their food, every bad row (its own problem, a SKU repeated in the file, an
unknown category) goes to the error file of the job, in the download centre."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from couponhub.core.models import AuditEntry, Job, RoleAssignment
from couponhub.core.spreadsheets import write_xlsx
from products.models import Product, ProductImport
from tests.factories import OrgFactory, StoreFactory, user_with_role
from tests.products.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
HEADER = ["食品编码", "食品名称", "食品类别编码", "单位", "售价"]


@pytest.fixture
def operator(client):
    user = user_with_role(Role.OPERATOR, OrgFactory())
    client.force_login(user)
    return user


def _upload(client, capture, data: bytes, name: str):
    with capture(execute=True):
        return client.post(reverse("products:import"), {"file": SimpleUploadedFile(name, data)})


def _error_rows(job: Job) -> list[list[str]]:
    with job.result_file.open("rb") as fh:
        text = fh.read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_good_rows_are_added_or_updated_and_bad_rows_go_to_the_error_file(
    client, operator, django_capture_on_commit_callbacks
):
    CategoryFactory(code="ZS", name="主食")
    ProductFactory(sku="D001", name="鱼香肉丝（旧）", category=None)
    ProductFactory(sku="D009", name="不变", category=None)
    rows = [
        HEADER,
        ["D001", "鱼香肉丝", "ZS", "份", "38"],  # updates the old name and category
        ["D002", "宫保鸡丁", "ZS", "份", "¥42.00"],
        ["D003", "扬州炒饭", "NOPE", "", ""],  # unknown category
        ["D002", "宫保鸡丁（重复）", "ZS", "", ""],  # repeated in the file
        ["", "无编码", "ZS", "", ""],
        ["D004", "米饭", "", "碗", "abc"],  # price is no amount
        ["D009", "不变", "", "", ""],  # the same as stored: neither added nor updated
    ]
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=rows[0], rows=rows[1:])
    response = _upload(client, django_capture_on_commit_callbacks, buffer.getvalue(), "食品.xlsx")
    job = Job.objects.get(kind="products.import")
    assert response.status_code == 302 and job.status == Job.Status.SUCCEEDED
    imp = ProductImport.objects.get()
    assert (imp.total_rows, imp.created_count, imp.updated_count, imp.invalid_count) == (
        7,
        1,
        1,
        4,
    )
    d001 = Product.objects.get(sku="D001")
    assert d001.name == "鱼香肉丝" and d001.category.code == "ZS" and d001.unit == "份"
    assert str(Product.objects.get(sku="D002").price) == "42.00"
    assert not Product.objects.filter(sku__in=["D003", "D004"]).exists()
    errors = _error_rows(job)
    assert errors[0] == ["行号", "食品编码", "食品名称", "原因"]
    reasons = {row[0]: row[3] for row in errors[1:]}
    assert "食品类别编码NOPE不存在" in reasons["4"]
    assert reasons["5"] == "文件内重复：与第3行的食品编码相同"
    assert "食品编码" in reasons["6"] and "售价" in reasons["7"]
    assert job.result == {"新增": 1, "更新": 1, "错误行": 4}
    assert AuditEntry.objects.filter(action="products.import").exists()
    # the job, and its error file, are in the download centre
    assert job.title in client.get(reverse("core:downloads")).content.decode()


def test_a_csv_without_bad_rows_has_no_error_file(
    client, operator, django_capture_on_commit_callbacks
):
    data = ("\n".join([",".join(HEADER), "K001,美式咖啡,,杯,22"]) + "\n").encode("utf-8")
    _upload(client, django_capture_on_commit_callbacks, data, "foods.csv")
    job = Job.objects.get(kind="products.import")
    assert job.status == Job.Status.SUCCEEDED and not job.result_file
    assert Product.objects.get(sku="K001").category is None


def test_a_wrong_header_fails_the_job_saying_what_the_first_row_must_be(
    client, operator, django_capture_on_commit_callbacks
):
    data = "编码,名称\nK001,美式咖啡\n".encode()
    _upload(client, django_capture_on_commit_callbacks, data, "foods.csv")
    job = Job.objects.get(kind="products.import")
    assert job.status == Job.Status.FAILED and "第1行应为表头" in job.error
    assert not Product.objects.exists()


def test_the_import_page_needs_the_manage_permission(client):
    client.force_login(user_with_role(Role.FINANCE, OrgFactory()))
    assert client.get(reverse("products:import")).status_code == 403
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    assert client.get(reverse("products:import")).status_code == 403
