"""The three imports of a large file: the worker's peak memory, next to a reader that does nothing
else. All three stage the file in a temporary table as it streams (couponhub.core.staging).

Needs PostgreSQL (DATABASE_URL). Works in a separate database `<name>_bench_imports`, created and
migrated on first use and kept; each run starts with 1,000,000 members (--quick: 50,000) whose
values the member file does not have, so the check against existing members has a table to look
in, and with no pickup code and no coupon.

- member import: 1,000,000 rows (--quick: 50,000) of phone and card number, about 18 MB.
- pickup code import: 1,000,000 rows of code and password, about 16 MB, every tenth row a repeat
  of an earlier code (100,000 rows in the error file, the rest stored with sealed passwords).
- coupon gift list: 1,000,000 phones of the existing members (one coupon each), about 12 MB.

Every file is within the 20 MB upload limit. Each import is its job's runner (`run_job` on a
prepared record and its queued Job) in a child process; the baseline is the same child that only
iterates `read_rows` over the same stored file. Each child reports its time and its peak RSS
(VmHWM), two runs each.
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
from django.core.files.storage import default_storage
from couponhub.core.jobs import run_job
from couponhub.core.models import Job
from couponhub.core.spreadsheets import read_rows
from coupons import jobs as coupon_jobs
from members import jobs as member_jobs
from pickup import jobs as pickup_jobs
job = Job.objects.get(pk=int(sys.argv[2]))
started = time.perf_counter()
if sys.argv[1] == "import":
    run_job(job.pk)
else:
    with default_storage.open(sys.argv[3], "rb") as fh:
        for row in read_rows(fh, filename=sys.argv[3]):
            pass
print("SECONDS", time.perf_counter() - started)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so it would count the parent
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")]
kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("MAXRSS_KB", kb)
"""


def _child(env: dict, what: str, job_pk: int, stored_name: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(job_pk), stored_name],
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


def _codes_csv(rows: int) -> bytes:
    """Code and password; every tenth row repeats the code of the row before it."""
    lines = ["提货码,密码"]
    lines += [f"P{(i - 1 if i % 10 == 9 else i):07d},{i % 1000000:06d}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _gift_csv(rows: int) -> bytes:
    """The phones of the members _existing_members loads, one a row."""
    lines = ["手机号"] + [str(15000000000 + g) for g in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _owner():
    from couponhub.core.models import User

    owner = User.objects.filter(username="bench_importer").first()
    return owner or User.objects.create_user(username="bench_importer", password="x")


def _prepare_members(data: bytes, rows: int):
    """A queued member import of `data`: (job, stored file name, check after the run)."""
    from django.core.files.base import ContentFile

    from couponhub.core.models import Job
    from members.models import Member, MemberImport

    owner = _owner()
    name = f"members-{rows}.csv"
    job = Job.objects.create(kind="members.import", title=f"会员导入 {name}", owner=owner)
    imp = MemberImport(created_by=owner, original_name=name, job=job)
    imp.file.save(name, ContentFile(data), save=False)
    imp.save()

    def check():
        imp.refresh_from_db()
        assert imp.imported == rows == Member.objects.filter(source="import").count()
        imp.file.delete(save=False)
        MemberImport.objects.filter(pk=imp.pk).delete()

    return job, imp.file.name, check


def _prepare_codes(data: bytes, rows: int):
    """A queued pickup code import of `data`, into an empty code table."""
    from django.core.files.base import ContentFile

    from couponhub.core.models import Job
    from pickup.models import CardType, ImportRecord, PickupCode
    from tests.pickup.factories import CardTypeFactory

    card = CardType.objects.filter(name="bench导入").first() or CardTypeFactory(name="bench导入")
    name = f"codes-{rows}.csv"
    record = ImportRecord(card_type=card, original_name=name, created_by=_owner())
    record.original_file.save(name, ContentFile(data), save=False)
    record.save()
    record.job = Job.objects.create(
        kind="pickup.import_codes", title=name, owner=_owner(), params={"import_id": record.pk}
    )
    record.save(update_fields=["job"])

    def check():
        record.refresh_from_db()
        duplicates = rows // 10
        assert (record.imported, record.duplicates) == (rows - duplicates, duplicates)
        assert PickupCode.objects.count() == rows - duplicates
        record.original_file.delete(save=False)
        record.error_file.delete(save=False)

    return record.job, record.original_file.name, check


def _prepare_gift(data: bytes, rows: int):
    """A queued gift of one coupon to each member the list names, by a rule with room."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from couponhub.core.models import Job, Org
    from coupons.models import Coupon, CouponRule
    from tests.coupons.factories import CouponRuleFactory

    org = Org.objects.filter(code="BENCH-IMPORTS").first() or Org.objects.create(
        code="BENCH-IMPORTS", kind="group", name="压测集团"
    )
    CouponRule.objects.filter(code="BENCH-IMPORT-GIFT").delete()
    rule = CouponRuleFactory(
        code="BENCH-IMPORT-GIFT", code_prefix="BG", total=rows, creating_org=org
    )
    name = default_storage.save(f"imports/gifts/bench-{rows}.csv", ContentFile(data))
    job = Job.objects.create(
        kind="coupons.gift", title=name, owner=_owner(), params={"rule_id": rule.pk, "file": name}
    )

    def check():
        assert Coupon.objects.filter(job=job).count() == rows
        default_storage.delete(name)

    return job, name, check


def _reset(connection, members: int) -> None:
    """The same start for each run: `members` members, no pickup code, no coupon."""
    t = time.perf_counter()
    _existing_members(connection, members)  # TRUNCATE … CASCADE: coupons too
    with connection.cursor() as cur:
        cur.execute("TRUNCATE pickup_pickupcode, pickup_codebatch, pickup_importrecord CASCADE")
    print(f"bench_imports: tables ready in {time.perf_counter() - t:.0f} s", file=sys.stderr)


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
    from couponhub.core.models import Job
    from couponhub.local_postgres import database_url

    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict)}
    members = QUICK if quick else FULL
    imports = [
        ("member import", _csv(rows), _prepare_members),
        ("pickup code import", _codes_csv(rows), _prepare_codes),
        ("coupon gift list", _gift_csv(min(rows, members)), _prepare_gift),
    ]
    ours: dict[str, list] = {what: [] for what, _d, _p in imports}
    bare: dict[str, list] = {what: [] for what, _d, _p in imports}
    for _run in range(RUNS):
        _reset(connection, members)
        for what, data, prepare in imports:
            job, stored, check = prepare(data, data.count(b"\n") - 1)
            bare[what].append(_child(env, "read", job.pk, stored))
            ours[what].append(_child(env, "import", job.pk, stored))
            job = Job.objects.get(pk=job.pk)
            assert job.status == "succeeded", job.error
            check()
    for what, data, _prepare in imports:
        rows_in = data.count(b"\n") - 1
        size = f"{rows_in:,}-row CSV ({len(data) / 1024 / 1024:.1f} MB)"
        peak = max(mb for _, mb in ours[what])
        report(
            goal=f"{what} of a {size}: peak < {MAX_MB} MB",
            measured=", ".join(f"{s:.1f} s, peak {mb:.0f} MB" for s, mb in ours[what]),
            baseline=", ".join(f"{s:.1f} s, peak {mb:.0f} MB" for s, mb in bare[what]),
            baseline_label="the same child only iterating read_rows over the same file",
            verdict=f"{'ok' if peak < MAX_MB else 'MISSED'} (peak {peak:.0f} MB)",
        )
