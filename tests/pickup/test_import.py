import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from couponhub.core.models import AuditEntry, Job
from pickup.models import ImportRecord, PickupCode
from tests.pickup.factories import CardTypeFactory, PickupCodeFactory

pytestmark = pytest.mark.django_db


def _post(client, card, name, content, capture):
    with capture(execute=True):
        return client.post(
            reverse("pickup:import"),
            {"card_type": card.pk, "file": SimpleUploadedFile(name, content)},
        )


@pytest.fixture
def card():
    return CardTypeFactory()


def _xlsx(rows):
    import openpyxl

    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_it_imports_a_csv_and_reports_every_bad_row(
    op_client, card, django_capture_on_commit_callbacks
):
    # given a code already in the system and a file with good, duplicate and bad rows
    PickupCodeFactory(code="TAKEN0000001")
    content = (
        "提货码,密码\n"
        "IMPA00000001,111111\n"
        "impa00000002,222222\n"
        "IMPA00000001,333333\n"  # duplicate within the file
        "TAKEN0000001,444444\n"  # duplicate against the database
        "IMPA00000003,\n"  # no password
        "IM*,555555\n"  # malformed code
        "IMPA00000004,666666,extra\n"  # wrong columns
    ).encode()
    response = _post(op_client, card, "codes.csv", content, django_capture_on_commit_callbacks)
    # then the good rows are stored with encrypted passwords, in a new batch
    record = ImportRecord.objects.get()
    assert response["Location"] == reverse("core:job_detail", args=[record.job_id])
    assert record.status == ImportRecord.Status.DONE
    assert (record.total_rows, record.imported, record.duplicates, record.invalid) == (7, 2, 2, 3)
    stored = PickupCode.objects.filter(batch=record.batch).order_by("serial")
    assert [c.code for c in stored] == ["IMPA00000001", "IMPA00000002"]
    assert stored[0].password == "111111" and stored[0].card_type == card
    # and the original file and the per-row error list can be downloaded
    original = op_client.get(reverse("pickup:import_file", args=[record.pk, "original"]))
    assert b"".join(original.streaming_content) == content
    errors = b"".join(
        op_client.get(reverse("pickup:import_file", args=[record.pk, "errors"])).streaming_content
    ).decode("utf-8-sig")
    assert "4,IMPA00000001,文件内重复：与第2行相同" in errors
    assert "5,TAKEN0000001,与系统中已有的提货码重复" in errors
    assert "6,IMPA00000003,密码为空" in errors
    assert "列数不正确" in errors and "提货码格式不正确" in errors
    assert Job.objects.get(pk=record.job_id).result["导入"] == 2
    assert AuditEntry.objects.filter(action="pickup.importrecord.import").exists()


def test_it_imports_xlsx_txt_and_gbk_csv(op_client, card, django_capture_on_commit_callbacks):
    _post(
        op_client,
        card,
        "a.xlsx",
        _xlsx([["提货码", "密码"], ["XLSX00000001", 12345678]]),
        django_capture_on_commit_callbacks,
    )
    _post(
        op_client,
        card,
        "b.txt",
        b"TXTC00000001\t87654321\r\nTXTC00000002\t11112222\r\n",
        django_capture_on_commit_callbacks,
    )
    _post(
        op_client,
        card,
        "c.csv",
        "提货码,密码\nGBKC00000001,密码一\n".encode("gbk"),
        django_capture_on_commit_callbacks,
    )
    _post(
        op_client,
        card,
        "d.csv",
        "\ufeff提货码,密码\nBOMC00000001,99\n".encode(),
        django_capture_on_commit_callbacks,
    )
    assert PickupCode.objects.get(code="XLSX00000001").password == "12345678"
    assert PickupCode.objects.filter(code__startswith="TXTC").count() == 2
    assert PickupCode.objects.get(code="GBKC00000001").password == "密码一"
    assert PickupCode.objects.filter(code="BOMC00000001").exists()


def test_it_imports_xls(op_client, card, django_capture_on_commit_callbacks):
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    ws = wb.add_sheet("s")
    ws.write(0, 0, "XLSC00000001")
    ws.write(0, 1, "778899")
    buf = io.BytesIO()
    wb.save(buf)
    _post(op_client, card, "a.xls", buf.getvalue(), django_capture_on_commit_callbacks)
    assert PickupCode.objects.get(code="XLSC00000001").password == "778899"


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<x/>")
        z.writestr("xl/workbook.xml", "<x/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (150 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("empty.csv", b"", "空文件"),
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "文件内容与扩展名不符"),
        ("renamed.csv", b"MZ\x90\x00" + b"\0" * 100, "文件内容与扩展名不符"),
        ("bomb.xlsx", None, "压缩炸弹"),
        ("huge.csv", None, "20MB"),
        ("codes.pdf", b"%PDF-1.4", "不支持的文件类型"),
    ],
)
def test_broken_and_hostile_files_are_refused_with_a_reason(
    op_client, card, name, content, message
):
    if name == "bomb.xlsx":
        content = _zip_bomb()
    if name == "huge.csv":
        content = b"A" * (20 * 1024 * 1024 + 10)
    response = op_client.post(
        reverse("pickup:import"), {"card_type": card.pk, "file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportRecord.objects.exists() and not PickupCode.objects.exists()


def test_wrong_columns_fail_the_import_and_write_nothing(
    op_client, card, django_capture_on_commit_callbacks
):
    content = "姓名,手机\n张三,13800138000\n".encode()
    _post(op_client, card, "people.csv", content, django_capture_on_commit_callbacks)
    record = ImportRecord.objects.get()
    assert record.status == ImportRecord.Status.FAILED
    assert "列不正确" in record.error
    assert not PickupCode.objects.exists()
    # one status: the import's job failed too, with the record's reason
    job = record.job
    assert job.status == "failed" and job.error == record.error


def test_a_file_of_only_a_header_fails(op_client, card, django_capture_on_commit_callbacks):
    _post(op_client, card, "h.csv", "提货码,密码\n".encode(), django_capture_on_commit_callbacks)
    assert ImportRecord.objects.get().error == "文件中没有提货码"


def test_import_is_refused_to_a_clerk(client, clerk, card):
    client.force_login(clerk)
    assert client.get(reverse("pickup:import")).status_code == 403
