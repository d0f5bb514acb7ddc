"""`make bench`: run every bench/bench_*.py and print one table.

Each module defines `run(report, *, quick: bool)` and calls
`report(goal=..., measured=..., baseline=..., baseline_label=..., verdict=...)` once per figure.
Benchmarks measure; they never fail the build. A baseline is always measured in the same run.
"""

import argparse
import importlib
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "couponhub.settings")


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("names", nargs="*", help="run only these modules (e.g. bench_jobs)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from couponhub.local_postgres import database_url

    # Benches start servers and commands in child processes: they use the same database.
    os.environ.setdefault("DATABASE_URL", database_url(settings.DATABASES["default"]))
    rows: list[dict] = []
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    for name in names:
        if args.names and name not in args.names:
            continue
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()

        def report(_name=name, **figure):
            rows.append({"bench": _name, **figure})

        try:
            module.run(report, quick=args.quick)
        except Exception:
            traceback.print_exc()
            rows.append({"bench": name, "goal": "—", "measured": "ERROR", "verdict": "error"})
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)

    columns = ["bench", "goal", "measured", "baseline", "baseline_label", "verdict"]
    widths = {c: max([len(c), *(len(str(r.get(c, ""))) for r in rows)]) for c in columns}
    print(" | ".join(c.ljust(widths[c]) for c in columns))
    print("-+-".join("-" * widths[c] for c in columns))
    for r in rows:
        print(" | ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
