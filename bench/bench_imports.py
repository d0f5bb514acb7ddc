"""Member import of a large CSV: the worker's peak memory, next to a reader that does nothing else.

Needs PostgreSQL (DATABASE_URL). Works in a separate database `<name>_bench_imports`, created and
migrated on first use and kept; each run starts with 1,000,000 members (--quick: 50,000) whose
values the file does not have, so the check against existing members has a table to look in.
The file: 1,000,000 rows (--quick: 50,000) of phone and card number, about 18 MB, within the
20 MB upload limit. The import is the job's runner (`run_job` on a prepared MemberImport and its
queued Job) in a child process; the baseline is the same child that only iterates `read_rows`
over the same stored file. Each child reports its time and its peak RSS (VmHWM), two runs each.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

FULL, QUICK = 1_000_000, 50_000
RUNS = 2
MAX_MB = 200
ROOT = Path(__file__).resolve().parent.parent
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Both children set Django up and import the runner's modules before the clock starts.
CHILD = """
import os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "couponhub.settings")
import django
django.setup()
from couponhub.core.jobs import run_job
from couponhub.core.spreadsheets import read_rows
from members import jobs
from members.models import MemberImport
imp = MemberImport.objects.get(pk=int(sys.argv[2]))
started = time.perf_counter()
if sys.argv[1] == "import":
    run_job(imp.job_id)
else:
    with imp.file.open("rb") as fh:
        for row in read_rows(fh, filename=imp.original_name):
            pass
print("SECONDS", time.perf_counter() - started)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so it would count the parent
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")]
kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("MAXRSS_KB", kb)
"""


def _child(env: dict, what: str, import_pk: int) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(import_pk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = dict(line.split() for line in out.splitlines() if line.startswith(("SECONDS", "MAX")))
    return float(values["SECONDS"]), int(values["MAXRSS_KB"]) / 1024


def _card(i: int) -> str:
    """Five base-36 characters: 60 million distinct card numbers."""
    chars = []
    for _ in range(5):
        i, r = divmod(i, 36)
        chars.append(ALPHABET[r])
    return "".join(reversed(chars))


def _csv(rows: int) -> bytes:
    lines = ["手机号,会员卡号"]
    lines += [f"{13000000000 + i},{_card(i)}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _setup_db():
    """Switch this process to the bench's own database (created and migrated when missing);
    returns the name to switch back to."""
    from django.conf import settings
    from django.db import connection

    name = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"].setdefault("TEST", {}).update(
        {"NAME": name + "_bench_imports", "CHARSET": None}
    )
    # serialize=False: no copy of a million members in this process's memory
    connection.creation.create_test_db(verbosity=0, autoclobber=False, serialize=False, keepdb=True)
    return name


def _existing_members(connection, count: int) -> None:
    """Empty the member table (what a previous run imported too) and load `count` members the
    file does not clash with (phones 150…, cards EX…): each run starts from the same table."""
    with connection.cursor() as cur:
        cur.execute("TRUNCATE members_member CASCADE")
        cur.execute(
            """
            INSERT INTO members_member (member_no, name, phone, card_no, gender, source,
                real_name_verified, registered_at, level, u_value, points, stored_value)
            SELECT 'E' || g, '会员' || g, (15000000000 + g)::text,
                'EX' || lpad(g::text, 8, '0'), 'U', 'pos', false, now(), '', 0, 0, 0
            FROM generate_series(1, %s) g
            """,
            [count],
        )
        cur.execute("VACUUM ANALYZE members_member")


def _prepare(data: bytes, rows: int):
    from django.core.files.base import ContentFile

    from couponhub.core.models import Job, User
    from members.models import MemberImport

    owner = User.objects.filter(username="bench_importer").first()
    owner = owner or User.objects.create_user(username="bench_importer", password="x")
    name = f"members-{rows}.csv"
    job = Job.objects.create(kind="members.import", title=f"会员导入 {name}", owner=owner)
    imp = MemberImport(created_by=owner, original_name=name, job=job)
    imp.file.save(name, ContentFile(data), save=False)
    imp.save()
    return imp


def run(report, *, quick: bool) -> None:
    if not os.environ.get("DATABASE_URL"):
        print("bench_imports: DATABASE_URL is not set; it needs PostgreSQL", file=sys.stderr)
    from django.db import connection

    rows = QUICK if quick else FULL
    own_name = _setup_db()
    try:
        _measure(report, connection, rows, quick=quick)
    finally:  # the benches after this one use the database they were given
        connection.creation.destroy_test_db(own_name, verbosity=0, keepdb=True)


def _measure(report, connection, rows: int, *, quick: bool) -> None:
    from couponhub.local_postgres import database_url
    from members.models import Member, MemberImport

    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict)}
    data = _csv(rows)
    size = f"{rows:,}-row CSV ({len(data) / 1024 / 1024:.1f} MB)"
    ours, bare = [], []
    for _run in range(RUNS):
        t = time.perf_counter()
        _existing_members(connection, 50_000 if quick else 1_000_000)
        print(f"bench_imports: table ready in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        imp = _prepare(data, rows)
        bare.append(_child(env, "read", imp.pk))
        ours.append(_child(env, "import", imp.pk))
        imp.refresh_from_db()
        imp.job.refresh_from_db()
        assert imp.job.status == "succeeded", imp.job.error
        assert imp.imported == rows == Member.objects.filter(source="import").count()
        imp.file.delete(save=False)
        MemberImport.objects.filter(pk=imp.pk).delete()
    peak = max(mb for _, mb in ours)
    report(
        goal=f"member import of a {size}: peak < {MAX_MB} MB",
        measured=", ".join(f"{s:.1f} s, peak {mb:.0f} MB" for s, mb in ours),
        baseline=", ".join(f"{s:.1f} s, peak {mb:.0f} MB" for s, mb in bare),
        baseline_label="the same child only iterating read_rows over the same file",
        verdict=f"{'ok' if peak < MAX_MB else 'MISSED'} (peak {peak:.0f} MB)",
    )
