import csv
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from couponhub.core.models import AuditEntry, Job
from pickup.models import ExportRecord
from pickup.selectors import write_code_export
from tests.pickup.factories import CodeBatchFactory, PickupCodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch():
    batch = CodeBatchFactory(serial_start=100, quantity=101)
    for i in range(7):
        PickupCodeFactory(batch=batch, serial=100 + i, code=f"EXPO{i:08d}", password=f"pw{i}")
    PickupCodeFactory(batch=batch, serial=200, code="EXPO99999999", password="=1+2")
    PickupCodeFactory(code="OTHER0000001")
    return batch


def test_export_page_makes_a_job_whose_file_is_in_the_download_centre(
    op_client, operator, batch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = op_client.post(
            reverse("pickup:export"),
            {
                "batch": batch.pk,
                "columns": ["serial", "code", "password", "url"],
                "file_format": "xlsx",
            },
        )
    record = ExportRecord.objects.get()
    job = Job.objects.get(pk=record.job_id)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED and job.owner == operator
    assert record.row_count == 8
    download = op_client.get(reverse("core:job_download", args=[job.pk]))
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("流水号", "提货码", "密码", "提货网址")
    assert rows[1] == (100, "EXPO00000000", "pw0", "http://testserver/pickup/c/EXPO00000000/")
    # formula injection is neutralised
    assert rows[-1][2] == "'=1+2"
    assert "OTHER0000001" not in str(rows)
    assert AuditEntry.objects.filter(action="pickup.exportrecord.create").exists()
    # the export record page lists it with its download
    text = op_client.get(reverse("pickup:export")).content.decode()
    assert reverse("core:job_download", args=[job.pk]) in text


def test_export_with_nothing_selected_is_refused(op_client):
    response = op_client.post(
        reverse("pickup:export"), {"batch": "", "columns": ["code"], "file_format": "csv"}
    )
    assert "没有符合条件的提货码" in response.content.decode()
    assert not ExportRecord.objects.exists()


def test_export_continues_on_further_sheets_past_the_row_limit(batch, tmp_path):
    path = tmp_path / "x.xlsx"
    written = write_code_export(
        path,
        selection={"batch": str(batch.pk)},
        columns=["code"],
        file_format="xlsx",
        max_rows_per_sheet=4,  # header + 3 rows per sheet
    )
    wb = openpyxl.load_workbook(path, read_only=True)
    assert written == 8
    assert len(wb.worksheets) == 3
    cells = [r[0] for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    codes = [c for c in cells if c != "提货码"]
    assert codes == [f"EXPO{i:08d}" for i in range(7)] + ["EXPO99999999"]


def test_export_reads_in_chunks_in_serial_order(batch, tmp_path):
    from pickup.selectors import export_rows

    seen = []
    rows = list(
        export_rows({"batch": str(batch.pk)}, ["serial"], chunk_size=3, progress=seen.append)
    )
    assert [r[0] for r in rows] == [*range(100, 107), 200]
    assert seen == [3, 6, 8]


def test_the_export_command_writes_csv(batch, tmp_path, capsys):
    out = tmp_path / "b.csv"
    call_command(
        "export_pickup_codes", "--batch", str(batch.pk), "--format", "csv", "--out", str(out)
    )
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["流水号", "提货码", "密码"]
    assert len(rows) == 9
    assert "8 rows" in capsys.readouterr().out


def test_export_refused_to_a_clerk(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("pickup:export")).status_code == 403
