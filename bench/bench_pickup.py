"""Pickup codes by the million: generation vs a raw COPY, export vs the bare writers.

Needs PostgreSQL (DATABASE_URL). Each service run is a child process (the management commands
`generate_pickup_codes` and `export_pickup_codes`, i.e. the same services as the background jobs)
so its peak memory is its own. Every figure is measured three times, each run next to a run of
its baseline on the same rows in this process; the table shows min / median / max.
"""

import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL, QUICK = 1_000_000, 20_000
RUNS = 3
BARE = {"csv": "csv module", "xlsx": "XlsxWriter constant_memory"}
GOALS = {"csv": 3.0, "xlsx": 1.3}  # × the bare writer
MAX_MB = 300
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


def _spread(seconds: list[float]) -> str:
    return f"{min(seconds):.1f} / {statistics.median(seconds):.1f} / {max(seconds):.1f} s"


def _verdict(ratio: float, goal_ratio: float, mb: float, stable: bool = True) -> str:
    ok = ratio <= goal_ratio and mb < MAX_MB and stable
    return f"{'ok' if ok else 'MISSED'} ({ratio:.2f}× by medians)"


def _empty_table() -> None:
    """Delete the bench's codes and vacuum, so each run starts from the same table."""
    from django.db import connection

    from pickup.models import CodeBatch, PickupCode

    PickupCode.objects.filter(batch__card_type__name="bench套餐").delete()
    CodeBatch.objects.filter(card_type__name="bench套餐").delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {PickupCode._meta.db_table}")


def run(report, *, quick: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from couponhub.core.codes import DIGITS, MIXED, random_strings
    from couponhub.core.crypto import encrypt
    from pickup.models import CardType, CodeBatch, PickupCode
    from pickup.services import GenerationSpec, create_code_batch
    from tests.pickup.factories import CardTypeFactory

    n = QUICK if quick else FULL
    card = CardType.objects.filter(name="bench套餐").first() or CardTypeFactory(name="bench套餐")
    size = f"{n:,} codes"
    _empty_table()

    # 1. generation through the service (child process), then a raw COPY of rows like them,
    # made beforehand, into the same table (same indexes, constraints and foreign keys), and
    # of their first three columns into a bare table (primary key and unique code only)
    gen_seconds, gen_mb, copy_seconds, bare_copy_seconds = [], [], [], []
    columns = "serial, code, password, card_type_id, batch_id, status, enabled, shipped, "
    columns += "picked_up, red_packet_amount"
    for run_no in range(RUNS):
        if run_no:
            _empty_table()
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
        gen_seconds.append(seconds)
        gen_mb.append(mb)
        batch = CodeBatch.objects.filter(card_type=card).order_by("-pk").first()
        assert PickupCode.objects.filter(batch=batch).count() == n
        target = create_code_batch(
            actor=None,
            card_type=card,
            spec=GenerationSpec(quantity=n, prefix="BY", code_length=12),
            background=False,
        )
        rows = list(
            zip(
                range(target.serial_start, target.serial_start + n),
                ("BY" + s for s in random_strings(n, 12, MIXED)),
                [encrypt(p) for p in random_strings(n, 8, DIGITS)],
                strict=True,
            )
        )
        rest = (card.pk, target.pk, "unused", True, False, False, 0)
        with connection.cursor() as cursor:
            started = time.perf_counter()
            with cursor.cursor.copy(f"COPY pickup_pickupcode ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *rest))
            copy_seconds.append(time.perf_counter() - started)
            cursor.execute("DROP TABLE IF EXISTS bench_pickup_copy")
            cursor.execute(
                "CREATE TABLE bench_pickup_copy (serial bigint PRIMARY KEY, code varchar(40) "
                "UNIQUE, password text NOT NULL)"
            )
            started = time.perf_counter()
            with cursor.cursor.copy(
                "COPY bench_pickup_copy (serial, code, password) FROM STDIN"
            ) as cp:
                for row in rows:
                    cp.write_row(row)
            bare_copy_seconds.append(time.perf_counter() - started)
            cursor.execute("DROP TABLE bench_pickup_copy")
        del rows
        PickupCode.objects.filter(batch=target).delete()
        target.delete()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {PickupCode._meta.db_table}")
    ratio = statistics.median(gen_seconds) / statistics.median(copy_seconds)
    report(
        goal=f"generate {size} with sealed passwords ≤3× raw COPY, <{MAX_MB} MB",
        measured=f"{_spread(gen_seconds)}, peak {max(gen_mb):.0f} MB",
        baseline=_spread(copy_seconds),
        baseline_label="one raw COPY of the same columns, rows made beforehand, same table",
        verdict=_verdict(ratio, 3, max(gen_mb)),
    )
    ratio = statistics.median(gen_seconds) / statistics.median(bare_copy_seconds)
    report(
        goal=f"the same generation ≤3× a raw COPY into a bare table, <{MAX_MB} MB",
        measured=f"{_spread(gen_seconds)}, peak {max(gen_mb):.0f} MB",
        baseline=_spread(bare_copy_seconds),
        baseline_label="raw COPY of serial, code, password into a table with PK + unique code",
        verdict=_verdict(ratio, 3, max(gen_mb)),
    )

    # 2. export to csv and xlsx through the service vs the bare writers on the same rows
    from pickup.selectors import DEFAULT_EXPORT_COLUMNS, export_rows

    same_rows = list(export_rows({"batch": str(batch.pk)}, DEFAULT_EXPORT_COLUMNS))
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "xlsx"):
            out, bare = Path(tmp) / f"service.{fmt}", Path(tmp) / f"bare.{fmt}"
            ours_seconds, ours_mb, bare_seconds = [], [], []
            for _run in range(RUNS):
                seconds, mb = _child(
                    "export_pickup_codes",
                    *("--batch", str(batch.pk), "--format", fmt, "--out", str(out)),
                )
                ours_seconds.append(seconds)
                ours_mb.append(mb)
                os.unlink(out)
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
                bare_seconds.append(time.perf_counter() - started)
                os.unlink(bare)
            ratio = statistics.median(ours_seconds) / statistics.median(bare_seconds)
            goal = f"export {size} to .{fmt} ≤{GOALS[fmt]:g}× bare writer, <{MAX_MB} MB"
            stable = True
            if fmt == "csv":  # the three runs within 1.5× of each other
                stable = max(ours_seconds) <= 1.5 * min(ours_seconds)
                goal += ", runs within 1.5×"
            report(
                goal=goal,
                measured=f"{_spread(ours_seconds)}, peak {max(ours_mb):.0f} MB",
                baseline=_spread(bare_seconds),
                baseline_label=f"bare {BARE[fmt]}, same rows from memory",
                verdict=_verdict(ratio, GOALS[fmt], max(ours_mb), stable),
            )
    del same_rows
    # the next run should not meet a million dead rows (or autovacuum at work on them)
    _empty_table()
