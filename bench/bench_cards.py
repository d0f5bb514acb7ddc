"""Pickup-card sheets: 100,000 cards (--quick: 10,000) drawn by the print job, its time and peak
memory, next to bare reportlab drawing the same cards.

Needs PostgreSQL (DATABASE_URL). Works in a separate database `<name>_bench_cards`, created and
migrated on first use and kept, with one batch of 100,000 generated codes (made once). Ours: the
job's runner (`run_job` on a queued pickup.print_cards Job: the codes read through the export's
server-side cursor, each password decrypted, the cards drawn in volumes of 10,000, the result
stored as a download) in a child process. The baseline: a child process that draws the same
cards — the same texts and the same QR codes (zxing-cpp), A4 8-up, one file per 10,000 — with
a bare reportlab canvas loop, from values made in Python (no database, no decryption, no crop
marks or scratch-off boxes). Each child reports its time, its CPU time (on a machine shared
with other work the wall time says more about the neighbours) and its peak RSS (VmHWM), two runs.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL, QUICK = 100_000, 10_000
RUNS = 2
MAX_SECONDS, MAX_MB = 60, 300
ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "couponhub.settings")
import django
django.setup()
what, arg, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if what == "ours":
    from couponhub.core.jobs import run_job
    from pickup import jobs
    started = time.perf_counter()
    job = run_job(arg)
    assert job.status == "succeeded", job.error
else:
    import zxingcpp
    from PIL import Image
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas
    pdfmetrics.registerFont(TTFont("F", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"))
    started = time.perf_counter()
    c = None
    for i in range(arg):
        if i % 10000 == 0:
            if c is not None:
                c.save()
            c = canvas.Canvas(f"{folder}/bare-{i // 10000}.pdf", pagesize=(210 * mm, 297 * mm))
        slot = i % 8
        x, y = (15 + (slot % 2) * 91.5) * mm, (250 - (slot // 2) * 60) * mm
        c.setFont("F", 9.5)
        c.drawString(x, y + 40 * mm, "中秋月饼礼盒提货卡")
        c.setFont("F", 8)
        c.drawString(x, y + 30 * mm, f"卡号 BENCH{i:08d}")
        c.drawString(x, y + 26 * mm, f"序列号 {1000000 + i}")
        c.drawString(x, y + 15 * mm, f"{i * 7919 % 100000000:08d}")
        c.drawString(x, y + 5 * mm, "扫描二维码或访问提货网址，输入卡号和密码即可提货。")
        b = zxingcpp.create_barcode(
            f"http://testserver/pickup/c/BENCH{i:08d}/", zxingcpp.BarcodeFormat.QRCode, ec_level="M"
        )
        m = b.to_image(scale=1, add_quiet_zones=True)
        img = Image.frombuffer("L", (m.shape[1], m.shape[0]), bytes(m), "raw", "L", 0, 1)
        c.drawInlineImage(img, x + 55 * mm, y + 2 * mm, 28 * mm, 28 * mm)
        if slot == 7:
            c.showPage()
    c.save()
print("SECONDS", time.perf_counter() - started)
print("CPU", time.process_time())
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")]
kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("MAXRSS_KB", kb)
"""


def _child(env: dict, what: str, arg: int, folder: str) -> tuple[float, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(arg), folder],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = dict(
        line.split() for line in out.splitlines() if line.startswith(("SECONDS", "CPU", "MAX"))
    )
    return float(values["SECONDS"]), float(values["CPU"]), int(values["MAXRSS_KB"]) / 1024


def _setup_db():
    from django.conf import settings
    from django.db import connection

    name = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"].setdefault("TEST", {}).update(
        {"NAME": name + "_bench_cards", "CHARSET": None}
    )
    connection.creation.create_test_db(verbosity=0, autoclobber=False, serialize=False, keepdb=True)
    return name


def _batch():
    """The bench's batch of FULL codes, generated on first use."""
    from pickup import services
    from pickup.models import CardType, CodeBatch

    batch = CodeBatch.objects.filter(note="bench_cards", quantity=FULL).first()
    if batch is not None:
        return batch
    card_type = CardType.objects.create(name="中秋月饼礼盒提货卡", face_value="288.00")
    spec = services.GenerationSpec(
        quantity=FULL,
        prefix="BENCH",
        code_length=10,
        code_format="mixed",
        password_length=8,
        password_format="digits",
    )
    t = time.perf_counter()
    batch = services.create_code_batch(actor=None, card_type=card_type, spec=spec, background=False)
    services.fill_code_batch(batch)
    CodeBatch.objects.filter(pk=batch.pk).update(note="bench_cards")
    print(f"bench_cards: {FULL:,} codes made in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return batch


def _job(batch, cards: int):
    from couponhub.core.models import Job

    return Job.objects.create(
        kind="pickup.print_cards",
        title="bench",
        params={
            "selection": {
                "serial_from": batch.serial_start,
                "serial_to": batch.serial_start + cards - 1,
            },
            "layout": {},
            "notes": "扫描二维码或访问提货网址，输入卡号和刮开涂层后的密码即可提货。",
            "package": True,
            "base_url": "http://testserver/",
        },
        total=cards,
    )


def run(report, *, quick: bool) -> None:
    if not os.environ.get("DATABASE_URL"):
        print("bench_cards: DATABASE_URL is not set; it needs PostgreSQL", file=sys.stderr)
    from django.db import connection

    own_name = _setup_db()
    try:
        _measure(report, connection, QUICK if quick else FULL)
    finally:
        connection.creation.destroy_test_db(own_name, verbosity=0, keepdb=True)


def _measure(report, connection, cards: int) -> None:
    from couponhub.core.models import Job
    from couponhub.local_postgres import database_url

    batch = _batch()
    ours, bare = [], []
    with tempfile.TemporaryDirectory() as media:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "MEDIA_ROOT": media,
        }
        for _run in range(RUNS):
            with tempfile.TemporaryDirectory() as folder:
                bare.append(_child(env, "bare", cards, folder))
            job = _job(batch, cards)
            ours.append(_child(env, "ours", job.pk, media))
            job.refresh_from_db()
            assert job.result["卡片"] == cards, job.result
            job.result_file.delete(save=False)
            Job.objects.filter(pk=job.pk).delete()
    slowest, peak = max(s for s, _, _ in ours), max(mb for _, _, mb in ours)
    cpu = max(c for _, c, _ in ours)
    ok = slowest <= MAX_SECONDS * cards / FULL and peak < MAX_MB
    report(
        goal=f"{cards:,} pickup cards to a print-shop package: ≤ {MAX_SECONDS * cards // FULL} s, "
        f"peak < {MAX_MB} MB",
        measured=", ".join(f"{s:.1f} s (CPU {c:.1f} s), peak {mb:.0f} MB" for s, c, mb in ours),
        baseline=", ".join(f"{s:.1f} s (CPU {c:.1f} s), peak {mb:.0f} MB" for s, c, mb in bare),
        baseline_label="bare reportlab drawing the same texts and QR codes, no database",
        verdict=f"{'ok' if ok else 'MISSED'} (slowest {slowest:.1f} s, its CPU at most "
        f"{cpu:.1f} s, peak {peak:.0f} MB)",
    )
