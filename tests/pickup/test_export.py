import csv
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from couponhub.core.models import AuditEntry, Job
from pickup.models import CardType, ExportRecord
from pickup.selectors import write_code_export
from tests.pickup.factories import CardTypeFactory, CodeBatchFactory, PickupCodeFactory

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


def _csv_by_hand(codes, columns: list[str], base_url: str) -> bytes:
    """The export as the csv module writes the codes read through the ORM, cell by cell by the
    export's rules (written out here, apart from the code under test)."""

    def cell(code, column: str) -> str:
        value = {
            "serial": code.serial,
            "code": code.code,
            "password": code.password,
            "url": base_url.rstrip("/") + reverse("pickup:consumer_code", args=[code.code]),
            "card_type": code.card_type.name,
            "batch": code.batch_id,
            "enabled": "是" if code.enabled else "否",
            "status": "已使用" if code.status == "used" else "未使用",
            "shipped": "是" if code.shipped else "否",
            "picked_up": "是" if code.picked_up else "否",
            "red_packet": code.red_packet_amount,
        }[column]
        text = str(value)
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    from pickup.selectors import EXPORT_COLUMNS

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([EXPORT_COLUMNS[c].header for c in columns])
    writer.writerows([[cell(code, c) for c in columns] for code in codes])
    return ("\ufeff" + out.getvalue()).encode()


def test_the_csv_export_writes_what_the_csv_module_makes_of_the_codes_on_hostile_data(
    tmp_path, settings
):
    from cryptography.fernet import Fernet
    from django.db import connection

    from pickup.models import PickupCode
    from pickup.selectors import EXPORT_COLUMNS
    from tests.pickup.factories import CardTypeFactory

    # given codes whose cells need every kind of care: quoting, formula characters, long and
    # Chinese passwords, a token of a retired key, every status, card types with hard names
    older_key_batch = CodeBatchFactory(
        card_type=CardTypeFactory(name='礼盒,"甄选"\n装'), serial_start=1_000, quantity=10
    )
    PickupCodeFactory(batch=older_key_batch, serial=1_000, code="OLDKEY000001", password="1357")
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    batch = CodeBatchFactory(
        card_type=CardTypeFactory(name="=HYPERLINK(1)"), serial_start=2_000, quantity=40
    )
    passwords = ["a,b", 'say "hi"', "-12", "+1", "@x", "二维码密码", "p" * 15, "q" * 16]
    passwords += ["z" * 40, "12345678", "1", ""]
    for i, password in enumerate(passwords):
        PickupCodeFactory(batch=batch, serial=2_000 + i, code=f"HARD{i:08d}", password=password)
    for i in range(20):
        PickupCodeFactory(batch=batch, serial=2_020 + i, code=f"PLAIN{i:07d}")
    PickupCode.objects.filter(serial=2_003).update(
        status="used", shipped=True, red_packet_amount="12.50"
    )
    PickupCode.objects.filter(serial=2_004).update(status="used", picked_up=True, enabled=False)
    # a card type named with a line break only (no comma to force the quotes)
    PickupCode.objects.filter(serial__gte=2_030).update(card_type=CardTypeFactory(name="礼盒\n装"))
    with connection.cursor() as cursor:  # a password stored before tokens were AES-CCM
        legacy = Fernet(settings.FIELD_ENCRYPTION_KEYS[1].encode()).encrypt(b"12345678")
        cursor.execute(
            "UPDATE pickup_pickupcode SET password = %s WHERE serial = 2009", [legacy.decode()]
        )
    today = timezone.localdate().isoformat()
    every = list(EXPORT_COLUMNS)
    window = {"serial_from": "2003", "serial_to": "2030", "date_from": today}
    # selection, base URL, columns, the serials it holds and how many codes they are
    cases = (
        (window, "", every, 2003, 2030, 20),
        ({"serial_from": "99999999999999999999"}, "", every, 1, 0, 0),  # beyond any serial
        ({"batch": batch.pk}, "", ["password"], 2000, 2039, 32),  # one column: "" for empty
        ({}, "https://a.example/x,y", every, 0, 9999, 33),
        ({"batch": batch.pk}, "", every, 2000, 2039, 32),
    )
    for selection, base_url, columns, low, high, count in cases:
        codes = PickupCode.objects.filter(serial__gte=low, serial__lte=high)
        codes = list(codes.select_related("card_type").order_by("serial"))
        assert len(codes) == count
        path = tmp_path / "export.csv"
        seen = []
        # when the export writes it, in chunks smaller than the selection
        written = write_code_export(
            path,
            selection=selection,
            columns=columns,
            file_format="csv",
            base_url=base_url,
            chunk_size=7,
            progress=seen.append,
        )
        # then every byte is the csv module's, and progress was told chunk by chunk
        assert written == len(codes)
        assert path.read_bytes() == _csv_by_hand(codes, columns, base_url)
        assert seen == list(range(7, written, 7)) + ([written] if written else [])
    text = path.read_text(encoding="utf-8-sig")
    assert '"a,b"' in text and "'=HYPERLINK(1)" in text and "'-12" in text
    assert '"礼盒\n装"' in text and "二维码密码" in text and ",12.50\n" in text


def test_the_csv_export_keeps_chosen_columns_in_their_order(batch, tmp_path):
    path = tmp_path / "some.csv"
    written = write_code_export(
        path,
        selection={"batch": str(batch.pk)},
        columns=["password", "serial", "card_type"],
        file_format="csv",
    )
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert written == 8
    assert rows[0] == ["密码", "流水号", "卡券"]
    assert rows[1] == ["pw0", "100", batch.card_type.name]
    assert rows[-1] == ["'=1+2", "200", batch.card_type.name]


@pytest.mark.django_db(transaction=True)
def test_no_transaction_stays_open_during_an_export_so_its_progress_is_seen(tmp_path):
    from django.db import connection

    batch = CodeBatchFactory(serial_start=500, quantity=30)
    for i in range(30):
        PickupCodeFactory(batch=batch, serial=500 + i)
    seen = []

    def progress(done):
        # what a job's set_progress writes here is committed at once, for the page to poll
        seen.append((done, connection.in_atomic_block))

    for file_format in ("xlsx", "csv"):
        seen.clear()
        write_code_export(
            tmp_path / f"x.{file_format}",
            selection={"batch": str(batch.pk)},
            columns=["serial", "password"],
            file_format=file_format,
            progress=progress,
        )
        assert seen[-1] == (30, False) and not any(open_ for _done, open_ in seen)


def test_the_export_records_list_runs_a_fixed_number_of_queries(
    op_client, operator, django_assert_max_num_queries
):
    def add_records(n):
        for _ in range(n):
            card = CardTypeFactory()
            job = Job.objects.create(kind="pickup.export_codes", title="导出", owner=operator)
            ExportRecord.objects.create(
                selection={"card_type": str(card.pk), "batch": "1"},
                columns=["code"],
                created_by=operator,
                job=job,
            )

    # given a few export records, each of another card type
    add_records(2)
    with django_assert_max_num_queries(20) as few:
        text = op_client.get(reverse("pickup:export")).content.decode()
    assert "卡券" + CardType.objects.first().name in text
    # when there are a page of them, the list still takes as many queries
    add_records(18)
    with django_assert_max_num_queries(len(few.captured_queries)):
        text = op_client.get(reverse("pickup:export")).content.decode()
    assert all(f"卡券{name}" in text for name in CardType.objects.values_list("name", flat=True))


def test_an_export_record_names_a_card_type_deleted_since_by_its_number(op_client, operator):
    ExportRecord.objects.create(selection={"card_type": "987654"}, created_by=operator)
    assert "卡券987654" in op_client.get(reverse("pickup:export")).content.decode()
