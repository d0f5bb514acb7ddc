"""Streaming writers of couponhub.core.spreadsheets next to the bare libraries, same rows.

Each case runs in a fresh subprocess so its peak memory (max RSS) is its own.
"""

import json
import subprocess
import sys
import tempfile

CASE = r"""
import csv, json, sys, time
from decimal import Decimal
kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rows():
    for i in range(n):
        yield [f"{i:012d}", f"PW{i % 9973:06d}", "2388套餐", f"B{i // 5000}", Decimal("12.5"), "-x"]
headers = ["code", "password", "card type", "batch", "amount", "note"]
import xlsxwriter
from couponhub.core.spreadsheets import write_csv, write_xlsx  # imports stay outside the timing
t = time.perf_counter()
if kind == "ours-xlsx":
    write_xlsx(out, headers=headers, rows=rows())
elif kind == "bare-xlsx":
    wb = xlsxwriter.Workbook(out, {"constant_memory": True}); ws = wb.add_worksheet()
    ws.write_row(0, 0, headers)
    for r, row in enumerate(rows(), start=1):
        ws.write_row(r, 0, [float(v) if isinstance(v, Decimal) else v for v in row])
    wb.close()
elif kind == "ours-csv":
    write_csv(out, headers=headers, rows=rows())
elif kind == "bare-csv":
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh); w.writerow(headers); w.writerows(rows())
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"seconds": time.perf_counter() - t,
                  "max_rss_mb": int(hwm) / 1024}))
"""


def _case(kind: str, n: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix="." + kind.split("-")[1]) as out:
        result = subprocess.run(
            [sys.executable, "-c", CASE, kind, str(n), out.name],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(report, *, quick: bool) -> None:
    n = 20_000 if quick else 300_000
    for fmt, goal in (("xlsx", "≤1.5× bare XlsxWriter, flat memory"), ("csv", "≤1.5× bare csv")):
        ours, bare = _case(f"ours-{fmt}", n), _case(f"bare-{fmt}", n)
        ratio = ours["seconds"] / bare["seconds"]
        report(
            goal=f"{fmt} {n:,} rows: {goal}",
            measured=f"{n / ours['seconds']:,.0f} rows/s, {ours['max_rss_mb']:.0f} MB",
            baseline=f"{n / bare['seconds']:,.0f} rows/s, {bare['max_rss_mb']:.0f} MB",
            baseline_label=f"bare {'XlsxWriter constant_memory' if fmt == 'xlsx' else 'csv'}",
            verdict=f"{ratio:.2f}×",
        )
