"""Step ⑤ 印刷提货卡: card sheets of a selection, read back — the text of the PDF and its QR
codes decoded as a scanner would."""

import csv
import hashlib
import io
import zipfile

import pypdf
import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from couponhub.core import cardsheets
from couponhub.core.models import AuditEntry, Job
from tests.pickup.factories import CardTypeFactory, CodeBatchFactory, PickupCodeFactory

pytestmark = pytest.mark.django_db

LAYOUT = {
    "card_width_mm": "85.5",
    "card_height_mm": "54",
    "sheet": "A4",
    "bleed_mm": "3",
    "crop_marks": "on",
    "sides": "single",
    "order": "interleaved",
    "notes": "凭卡号和密码提货，有效期至2027年12月31日",
}


@pytest.fixture
def batch():
    card_type = CardTypeFactory(name="中秋月饼礼盒")
    batch = CodeBatchFactory(card_type=card_type, serial_start=500, quantity=11)
    for i in range(11):
        PickupCodeFactory(
            batch=batch,
            card_type=card_type,
            serial=500 + i,
            code=f"MOON{i:06d}",
            password=f"{i:08d}",
        )
    PickupCodeFactory(code="OTHER0000001")
    return batch


def _download(client, job) -> bytes:
    return b"".join(client.get(reverse("core:job_download", args=[job.pk])).streaming_content)


def _qr_texts(page) -> list[str]:
    """Every QR code on the page, decoded from its image (enlarged, as a camera sees it)."""
    texts = []
    for image in page.images:
        pixels = image.image.convert("L")
        big = pixels.resize((pixels.width * 8, pixels.height * 8), Image.NEAREST)
        texts += [b.text for b in zxingcpp.read_barcodes(big)]
    return texts


def test_print_page_draws_one_card_per_code_with_text_and_qr_that_read_back(
    op_client, operator, batch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = op_client.post(reverse("pickup:print_cards"), {"batch": batch.pk, **LAYOUT})
    job = Job.objects.get(kind="pickup.print_cards")
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.owner == operator and job.result["卡片"] == 11
    assert AuditEntry.objects.filter(action="pickup.print_cards").exists()

    reader = pypdf.PdfReader(io.BytesIO(_download(op_client, job)))
    # 8 cards (2×4) fit an A4 sheet with 3 mm bleed: 11 cards are two sheets
    assert len(reader.pages) == 2
    text = "".join(page.extract_text() for page in reader.pages)
    qr = [t for page in reader.pages for t in _qr_texts(page)]
    for i in range(11):
        assert f"卡号 MOON{i:06d}" in text
        assert f"序列号 {500 + i}" in text
        assert f"{i:08d}" in text  # the password, in the scratch-off area
    assert text.count("中秋月饼礼盒") == 11
    assert text.count("密码（刮开涂层）") == 11
    assert "凭卡号和密码提货" in text
    assert "OTHER0000001" not in text
    assert qr == [f"http://testserver/pickup/c/MOON{i:06d}/" for i in range(11)]
    # the font is embedded (a subset of it), not left to the print shop's machine
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert all(
        "/FontFile2" in f.get_object()["/FontDescriptor"]
        for f in (fonts[k].get_object() for k in fonts)
        if "/FontDescriptor" in f.get_object()
    )


def test_print_shop_package_has_the_pdf_a_manifest_of_serials_and_checksums(
    op_client, batch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        op_client.post(
            reverse("pickup:print_cards"),
            {"serial_from": 503, "serial_to": 507, **LAYOUT, "package": "on"},
        )
    job = Job.objects.get(kind="pickup.print_cards")
    assert job.result_file.name.endswith("-print-package.zip")
    archive = zipfile.ZipFile(io.BytesIO(_download(op_client, job)))
    names = archive.namelist()
    pdf_name = f"pickup-cards-{job.pk}-001.pdf"
    manifest_name = f"pickup-cards-{job.pk}-manifest.csv"
    assert sorted(names) == sorted([pdf_name, manifest_name, "SHA256SUMS"])
    rows = list(csv.reader(io.StringIO(archive.read(manifest_name).decode("utf-8-sig"))))
    assert rows[0] == ["序列号", "卡号", "文件", "印张", "位置"]
    assert [r[0] for r in rows[1:]] == ["503", "504", "505", "506", "507"]
    assert rows[1][1:] == [f"MOON{3:06d}", pdf_name, "1", "1"]
    assert "00000003" not in archive.read(manifest_name).decode("utf-8-sig")  # no passwords
    sums = dict(
        reversed(line.split("  ")) for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    for name in (pdf_name, manifest_name):
        assert sums[name] == hashlib.sha256(archive.read(name)).hexdigest()


def test_duplex_backs_land_behind_their_fronts_and_big_runs_split_into_volumes(tmp_path):
    cards = [
        cardsheets.Card(
            serial=str(i), code=f"C{i}", password=f"P{i:04d}", title="卡", qr_text=f"Q{i}"
        )
        for i in range(10)
    ]
    layout = cardsheets.Layout(sides="duplex_long", sheet="SRA3")
    grid = layout.grid()
    assert (grid.cols, grid.rows) == (3, 7)  # SRA3 turned: 21 cards a sheet
    front, back = grid.cell_origin(0), grid.cell_origin(0, back=True)
    assert front[1] == back[1] and front[0] + back[0] == pytest.approx(
        (grid.page_w - 85.5) * cardsheets.mm
    )  # mirrored left to right, same row
    pdfs, _manifest, count = cardsheets.write_card_run(
        tmp_path, cards, layout, name="run", volume_cards=4
    )
    assert count == 10 and [p.name for p in pdfs] == ["run-001.pdf", "run-002.pdf", "run-003.pdf"]
    first = pypdf.PdfReader(pdfs[0])
    assert len(first.pages) == 2  # one sheet: front, then its back
    assert "P0000" not in first.pages[0].extract_text()  # the password is on the back
    assert "P0000" in first.pages[1].extract_text()
    assert _qr_texts(first.pages[0]) == ["Q0", "Q1", "Q2", "Q3"]


def test_a_card_larger_than_the_sheet_and_an_empty_selection_are_refused(op_client, batch):
    response = op_client.post(
        reverse("pickup:print_cards"),
        {"batch": batch.pk, **LAYOUT, "card_width_mm": "250", "card_height_mm": "280"},
    )
    assert "放不下一张A4纸" in response.content.decode()
    response = op_client.post(reverse("pickup:print_cards"), {"serial_from": 10**12, **LAYOUT})
    assert "没有符合条件的提货码" in response.content.decode()
    assert not Job.objects.filter(kind="pickup.print_cards").exists()


def test_print_page_needs_the_manage_permission(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("pickup:print_cards")).status_code == 403
