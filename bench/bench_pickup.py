"""Pickup codes by the million: generation vs a raw COPY, export vs the bare writers.

Needs PostgreSQL (DATABASE_URL). Each service run is a child process (the management commands
`generate_pickup_codes` and `export_pickup_codes`, i.e. the same services as the background jobs)
so its peak memory is its own; each baseline is measured in this run on the same rows.
"""

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL, QUICK = 1_000_000, 20_000
BARE = {"csv": "csv module", "xlsx": "XlsxWriter constant_memory"}
ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "couponhub.settings")
import django
django.setup()
from django.core.management import call_command
started = time.perf_counter()
call_command(*sys.argv[1:], stdout=open(os.devnull, "w"))
print("SECONDS", time.perf_counter() - started)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so it would count the
# (large) parent; the high-water mark of this process's own memory starts fresh at exec.
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")]
kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("MAXRSS_KB", kb)
"""


def _child(*args) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = dict(line.split() for line in out.splitlines() if line.startswith(("SECONDS", "MAX")))
    return float(values["SECONDS"]), int(values["MAXRSS_KB"]) / 1024


def _verdict(ratio: float, goal_ratio: float, mb: float, goal_mb: float) -> str:
    return "ok" if ratio <= goal_ratio and mb <= goal_mb else "MISSED"


def run(report, *, quick: bool) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        report(
            goal="pickup codes on PostgreSQL",
            measured="skipped: set DATABASE_URL to a PostgreSQL database",
            verdict="skipped",
        )
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from couponhub.core.codes import DIGITS, MIXED, random_strings
    from couponhub.core.crypto import encrypt
    from pickup.models import CardType, CodeBatch, PickupCode
    from tests.pickup.factories import CardTypeFactory

    n = QUICK if quick else FULL
    card = CardType.objects.filter(name="bench套餐").first() or CardTypeFactory(name="bench套餐")
    size = f"{n:,} codes"

    # 1. generation through the service (child process), then a raw COPY of rows like them
    seconds, mb = _child(
        "generate_pickup_codes",
        "--card-type",
        str(card.pk),
        "--quantity",
        str(n),
        "--prefix",
        "BX",
        "--code-length",
        "12",
    )
    batch = CodeBatch.objects.filter(card_type=card).order_by("-pk").first()
    assert PickupCode.objects.filter(batch=batch).count() == n
    rows = list(
        zip(
            range(1, n + 1),
            ("BY" + s for s in random_strings(n, 12, MIXED)),
            [encrypt(p) for p in random_strings(n, 8, DIGITS)],
            strict=True,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_pickup_copy")
        cursor.execute(
            "CREATE TABLE bench_pickup_copy (serial bigint PRIMARY KEY, code varchar(40) "
            "UNIQUE, password text NOT NULL)"
        )
        started = time.perf_counter()
        with cursor.cursor.copy("COPY bench_pickup_copy (serial, code, password) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        copy_seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_pickup_copy")
    del rows
    report(
        goal=f"generate {size} with encrypted passwords ≤3× raw COPY, <500 MB",
        measured=f"{seconds:.1f} s ({n / seconds:,.0f} codes/s), peak {mb:.0f} MB",
        baseline=f"{copy_seconds:.1f} s",
        baseline_label="raw COPY of pre-generated rows (PK + unique code)",
        verdict=_verdict(seconds / copy_seconds, 3, mb, 500),
    )

    # 2. export to csv and xlsx through the service vs the bare writers on the same rows
    from pickup.selectors import DEFAULT_EXPORT_COLUMNS, export_rows

    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "xlsx"):
            out = Path(tmp) / f"service.{fmt}"
            seconds, mb = _child(
                "export_pickup_codes", "--batch", str(batch.pk), "--format", fmt, "--out", str(out)
            )
            same_rows = list(export_rows({"batch": str(batch.pk)}, DEFAULT_EXPORT_COLUMNS))
            bare = Path(tmp) / f"bare.{fmt}"
            started = time.perf_counter()
            if fmt == "csv":
                with open(bare, "w", newline="", encoding="utf-8") as fh:
                    csv.writer(fh).writerows(same_rows)
            else:
                import xlsxwriter

                wb = xlsxwriter.Workbook(str(bare), {"constant_memory": True})
                ws = wb.add_worksheet()
                for r, row in enumerate(same_rows):
                    ws.write_row(r, 0, row)
                wb.close()
            bare_seconds = time.perf_counter() - started
            del same_rows
            report(
                goal=f"export {size} to .{fmt} ≤1.5× bare writer, <300 MB",
                measured=f"{seconds:.1f} s ({n / seconds:,.0f} rows/s), peak {mb:.0f} MB",
                baseline=f"{bare_seconds:.1f} s",
                baseline_label=f"bare {BARE[fmt]}, same rows from memory",
                verdict=_verdict(seconds / bare_seconds, 1.5, mb, 300),
            )
            os.unlink(out)

    PickupCode.objects.filter(batch__card_type=card).delete()
    CodeBatch.objects.filter(card_type=card).delete()
    # the next run should not meet a million dead rows (or autovacuum at work on them)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {PickupCode._meta.db_table}")
