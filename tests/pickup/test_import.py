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


# --- the streamed import: the runner on a stored upload -------------------------------------


def _run_import(card, name: str, content: bytes, *, owner=None):
    """Store the upload like start_code_import and run its job here (no worker)."""
    from django.core.files.base import ContentFile

    from couponhub.core.jobs import run_job

    record = ImportRecord(card_type=card, original_name=name, created_by=owner)
    record.original_file.save(name, ContentFile(content), save=False)
    record.job = Job.objects.create(
        kind="pickup.import_codes", title=name, owner=owner, params={"import_id": 0}
    )
    record.save()
    Job.objects.filter(pk=record.job_id).update(params={"import_id": record.pk})
    run_job(record.job_id)
    record.refresh_from_db()
    return record


def _error_lines(record) -> list[str]:
    with record.error_file.open("rb") as fh:
        return fh.read().decode("utf-8-sig").splitlines()


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few rows, so a small file crosses many COPYs and cursor fetches."""
    from couponhub.core import staging
    from pickup.services import transfers

    monkeypatch.setattr(transfers, "IMPORT_CHUNK_ROWS", 7)
    monkeypatch.setattr(staging, "FETCH_ROWS", 3)


def test_duplicates_inside_the_file_name_the_first_good_row(card, small_chunks):
    # given a file whose codes repeat across chunks, one repeat after a bad row of that code
    rows = [f"DUPA{i:08d},{i:06d}" for i in range(30)]
    rows[20] = "dupa00000003,999999"  # row 22 (after the header): repeats row 5, case aside
    rows[25] = "DUPA00000007,"  # row 27: bad on its own (no password) ...
    rows.append("DUPA00000007,123456")  # row 32: ... repeats row 9, the first good one
    content = ("提货码,密码\n" + "\n".join(rows) + "\n").encode()
    record = _run_import(card, "dups.csv", content)
    assert record.status == ImportRecord.Status.DONE
    assert (record.total_rows, record.imported, record.duplicates, record.invalid) == (31, 28, 2, 1)
    assert _error_lines(record) == [
        "行号,提货码,原因",
        "22,DUPA00000003,文件内重复：与第5行相同",
        "27,DUPA00000007,密码为空",
        "32,DUPA00000007,文件内重复：与第9行相同",
    ]
    # the good rows take consecutive serials in the file's order, with their own passwords
    stored = list(PickupCode.objects.filter(batch=record.batch).order_by("serial"))
    assert len(stored) == 28 == record.batch.quantity
    assert [c.serial for c in stored] == list(
        range(record.batch.serial_start, record.batch.serial_start + 28)
    )
    assert stored[3].code == "DUPA00000003" and stored[3].password == "000003"
    assert stored[-1].code == "DUPA00000029"


def test_codes_already_stored_are_skipped_and_counted(card, small_chunks):
    PickupCodeFactory(code="OLDC00000002")
    PickupCodeFactory(code="OLDC00000005")
    rows = [f"OLDC{i:08d},pw{i}" for i in range(10)]
    record = _run_import(card, "old.csv", ("\n".join(rows) + "\n").encode())
    assert (record.total_rows, record.imported, record.duplicates, record.invalid) == (10, 8, 2, 0)
    assert _error_lines(record)[1:] == [
        "3,OLDC00000002,与系统中已有的提货码重复",
        "6,OLDC00000005,与系统中已有的提货码重复",
    ]
    assert PickupCode.objects.filter(batch=record.batch).count() == 8
    assert PickupCode.objects.filter(code__startswith="OLDC").count() == 10


def test_every_bad_row_is_in_the_error_file_in_row_order(card, small_chunks):
    # given a file where most rows are bad, in every way
    kinds = [
        ("BAD*{i:04d},111111", "提货码格式不正确：应为4～40位字母或数字"),
        ("BADC{i:08d},", "密码为空"),
        ("BADD{i:08d},111,x", "列数不正确：只应有提货码和密码两列"),
        ("BADE{i:08d}," + "9" * 41, "密码格式不正确：最多40位可见字符"),
        ("GOOD{i:08d},222222", None),
    ]
    rows, expected = [], []
    for i in range(40):
        template, reason = kinds[i % len(kinds)]
        rows.append(template.format(i=i))
        if reason:
            expected.append(f"{i + 2},{rows[-1].split(',')[0].upper()},{reason}")
    record = _run_import(card, "bad.csv", ("提货码,密码\n" + "\n".join(rows) + "\n").encode())
    assert (record.total_rows, record.imported, record.duplicates, record.invalid) == (40, 8, 0, 32)
    assert _error_lines(record) == ["行号,提货码,原因", *expected]
    # the job offers the same file
    job = Job.objects.get(pk=record.job_id)
    assert job.status == Job.Status.SUCCEEDED and job.result["无效"] == 32
    with job.result_file.open("rb") as fh:
        assert fh.read().decode("utf-8-sig").splitlines() == _error_lines(record)


def test_a_file_with_only_bad_rows_stores_no_batch(card):
    record = _run_import(card, "allbad.csv", b"AB,1\nCD*,2\n")
    assert record.status == ImportRecord.Status.DONE
    assert (record.imported, record.invalid, record.batch) == (0, 2, None)
    assert not PickupCode.objects.exists()


def test_a_cancelled_import_stops_and_writes_nothing(card, small_chunks, monkeypatch):
    from django.core.files.base import ContentFile

    from couponhub.core.jobs import JobCancelled, raise_if_cancelled
    from pickup import jobs

    # given an import whose job was cancelled while the worker runs it
    rows = [f"CANC{i:08d},{i:06d}" for i in range(30)]
    record = ImportRecord(card_type=card, original_name="cancel.csv")
    record.original_file.save("cancel.csv", ContentFile(("\n".join(rows) + "\n").encode()))
    job = Job.objects.create(
        kind="pickup.import_codes", title="t", params={"import_id": record.pk}, status="cancelled"
    )
    # then the runner stops at the first chunk: nothing is stored, the import waits for a re-run
    with pytest.raises(JobCancelled):
        jobs.import_codes(job)
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.PENDING and record.batch is None
    assert not PickupCode.objects.exists() and not record.error_file
    assert not AuditEntry.objects.filter(action="pickup.importrecord.import").exists()
    # and a re-run imports the whole file, looking for a cancel after each of its 5 chunks
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    looked = []
    monkeypatch.setattr(
        jobs, "raise_if_cancelled", lambda j: looked.append(j.pk) or raise_if_cancelled(j)
    )
    jobs.import_codes(Job.objects.get(pk=job.pk))
    record.refresh_from_db()
    assert record.status == ImportRecord.Status.DONE and record.imported == 30
    assert looked == [job.pk] * 5


def test_a_txt_separated_by_spaces(card):
    content = "提货码 密码\r\nSPCA00000001 11112222\r\nspca00000002    33334444\r\n\r\nSPC* 1\r\n"
    record = _run_import(card, "spaces.txt", content.encode("gbk"))
    assert (record.total_rows, record.imported, record.invalid) == (3, 2, 1)
    assert PickupCode.objects.get(code="SPCA00000001").password == "11112222"
    assert PickupCode.objects.get(code="SPCA00000002").password == "33334444"
    assert _error_lines(record)[1:] == ["5,SPC*,提货码格式不正确：应为4～40位字母或数字"]
