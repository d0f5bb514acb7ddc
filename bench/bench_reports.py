"""Reports (issue 8): the U享值兑换优惠券明细 page on millions of fact rows, a 1,000,000-row export
next to bare XlsxWriter, and the nightly build for one day of changes.

Works in a separate database `<name>_bench_reports`, created and
migrated on first use and kept (the facts are loaded once with INSERT … SELECT generate_series).
Full size: 5,000,000 fact rows, 1,000,000-row export, 200,000 source changes in one day.
--quick: 200,000 fact rows, 50,000-row export, 20,000 changes.
"""

import datetime
import json
import os
import statistics
import subprocess
import sys
import time

N_STORES = 100


def _setup_db():
    from django.db import connection

    # serialize=False: otherwise Django dumps every row of the kept database into memory first
    connection.creation.create_test_db(verbosity=0, autoclobber=False, keepdb=True, serialize=False)
    return connection


def _orgs():
    from couponhub.core.models import Org, RoleAssignment, User
    from couponhub.core.services import create_org

    group = Org.objects.filter(code="RG").first()
    if group is None:
        group = create_org(actor=None, kind="group", code="RG", name="集团")
        region = create_org(actor=None, kind="region", code="RR", name="零售", parent=group)
        for i in range(N_STORES):
            create_org(actor=None, kind="store", code=f"R{i:03d}", name=f"门店{i}", parent=region)
        hq = User.objects.create_user(username="bench_hq", password="x")
        RoleAssignment.objects.create(user=hq, role="hq", org=group)
        manager = User.objects.create_user(username="bench_manager", password="x")
        RoleAssignment.objects.create(
            user=manager, role="store_manager", org=Org.objects.get(code="R007")
        )
    return group


def _load_facts(connection, n: int, *, vacuum: bool = True):
    """`n` U-value fact rows over 730 days and the 100 stores of `_orgs` (kept when there are
    already `n`). `vacuum=False` inside a transaction (bench_scale's steps): VACUUM cannot run
    there; the caller analyses after."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM reports_uvaluecouponfact")
        if cur.fetchone()[0] == n:
            return
        cur.execute("TRUNCATE reports_uvaluecouponfact")
        cur.execute(
            "SELECT array_agg(path ORDER BY code) FROM core_org WHERE code LIKE 'R0%%' "
            "OR code LIKE 'R1%%'"
        )
        paths = cur.fetchone()[0]
        cur.execute(
            """
            INSERT INTO reports_uvaluecouponfact
            SELECT g, (ts AT TIME ZONE 'Asia/Shanghai')::date,
                   '积分商城-煎药券-' || (g %% 50) || '付药',
                   'FQ' || (24000100 + g %% 50), g %% 50, 'YHQ-FG-' || (24000000 + g %% 50),
                   (g %% 50) || '付药-指定门店可用', '无门槛赠送煎药费等赠品', 1, 'product', NULL,
                   '煎药费', 2000, 20.00, 'UX' || lpad(g::text, 10, '0'), g %% 1000000,
                   '会员' || (g %% 1000000), '55' || lpad((g %% 1000000)::text, 8, '0'),
                   '139' || lpad((g %% 1000000)::text, 8, '0'),
                   CASE g %% 5 WHEN 0 THEN 'used' WHEN 1 THEN 'expired' ELSE 'unused' END,
                   ts, CASE WHEN g %% 5 = 0 THEN ts + interval '2 days' END,
                   CASE WHEN g %% 5 = 0 THEN 1 END,
                   CASE WHEN g %% 5 = 0 THEN 'R-门店' ELSE '' END, '',
                   NULL, (%s::text[])[1 + g %% %s], now()
            FROM (SELECT g, now() - interval '2 days' - (g %% 730) * interval '1 day'
                         - (g %% 86400) * interval '1 second' AS ts
                  FROM generate_series(1, %s) g) s
            """,
            [paths, len(paths), n],
        )
        if vacuum:
            cur.execute("VACUUM ANALYZE reports_uvaluecouponfact")


def _p95(client, url, params, runs):
    client.get(url, params)  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    return statistics.quantiles(times, n=20)[-1]


def _page(report, quick):
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from couponhub.core.models import Org, User
    from reports import selectors

    url = reverse("reports:u_value_detail")
    hq, manager = User.objects.get(username="bench_hq"), User.objects.get(username="bench_manager")
    today = timezone.localdate()
    month = {
        "obtained_from": (today - datetime.timedelta(days=31)).isoformat(),
        "obtained_to": (today - datetime.timedelta(days=1)).isoformat(),
    }
    cases = [
        ("HQ, 全业态, no filter", hq, {}),
        ("HQ, 到账时间 one month", hq, month),
        (
            "HQ, region + status used + month",
            hq,
            {**month, "status": "used", "org": Org.objects.get(code="RR").pk},
        ),
        (
            "HQ, 核销时间 one week",
            hq,
            {
                "used_from": (today - datetime.timedelta(days=8)).isoformat(),
                "used_to": (today - datetime.timedelta(days=1)).isoformat(),
            },
        ),
        ("HQ, 券码", hq, {"code": "UX0000123456"}),
        ("HQ, 会员 phone", hq, {"member": "13900012345"}),
        ("HQ, 优惠券名称 + month", hq, {**month, "name": "7付药"}),
        ("store manager, no filter", manager, {}),
        ("store manager, month + used", manager, {**month, "status": "used"}),
    ]
    runs = 10 if quick else 30
    for label, user, params in cases:
        client = Client()
        client.force_login(user)
        p95 = _p95(client, url, params, runs)
        qs = selectors.u_value_facts(user, params)
        t = time.perf_counter()
        exact = qs.count()
        exact_ms = (time.perf_counter() - t) * 1000
        report(
            goal=f"page p95 < 300 ms: {label}",
            measured=f"{p95:.0f} ms",
            baseline=f"{exact_ms:.0f} ms ({exact:,} rows)",
            baseline_label="exact count(*) of the same filter alone",
            verdict="ok" if p95 < 300 else "over goal",
        )
    connection.close()


EXPORT_CASE = r"""
import json, os, sys, time
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "couponhub.settings"
django.setup()
kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
from django.conf import settings
from couponhub.core.models import User
from reports import exports
from reports.models import UValueCouponFact
hq = User.objects.get(username="bench_hq")
t = time.perf_counter()
if kind == "ours":
    spec = exports.REPORTS["u_value"](hq, {})
    from itertools import islice
    from couponhub.core.spreadsheets import write_xlsx
    written = write_xlsx(out, headers=spec.headers, rows=islice(spec.rows, n))
else:
    import xlsxwriter
    qs = UValueCouponFact.objects.order_by("-obtained_at", "-coupon_id").values_list(
        *exports.U_VALUE_FIELDS)[:n]
    wb = xlsxwriter.Workbook(out, {"constant_memory": True}); ws = wb.add_worksheet()
    ws.write_row(0, 0, list(exports.U_VALUE_FIELDS))
    written = 0
    for r, row in enumerate(qs.iterator(chunk_size=5000), start=1):
        ws.write_row(r, 0, [v if isinstance(v, (str, int)) or v is None else str(v) for v in row])
        written += 1
    wb.close()
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": written, "max_rss_mb": int(hwm) / 1024}))
"""


def _export(report, n):
    import tempfile

    from django.conf import settings

    db = settings.DATABASES["default"]
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db["TEST"]["NAME"]
    env = {**os.environ, "DATABASE_URL": url}
    results = {}
    for kind in ("ours", "bare"):
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as out:
            done = subprocess.run(
                [sys.executable, "-c", EXPORT_CASE, kind, str(n), out.name],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
        results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    ours, bare = results["ours"], results["bare"]
    report(
        goal=f"export {ours['rows']:,} rows to .xlsx, flat memory",
        measured=f"{ours['rows'] / ours['seconds']:,.0f} rows/s, peak {ours['max_rss_mb']:.0f} MB",
        baseline=f"{bare['rows'] / bare['seconds']:,.0f} rows/s, peak {bare['max_rss_mb']:.0f} MB",
        baseline_label="bare XlsxWriter constant_memory over the same query",
        verdict=f"{ours['seconds'] / bare['seconds']:.2f}× the bare time",
    )


def _nightly(report, connection, changes: int):
    from django.utils import timezone

    from coupons.models import Campaign, CouponRule
    from products.models import Product
    from reports import facts
    from reports.models import FactRun

    group = _orgs()
    day = timezone.localdate() - datetime.timedelta(days=1)
    start = facts.start_of_day(day)
    with connection.cursor() as cur:
        cur.execute("TRUNCATE coupons_coupon, members_member, coupons_campaign CASCADE")
        cur.execute("DELETE FROM coupons_couponrule WHERE code LIKE 'RB-%'")
        cur.execute("DELETE FROM reports_factrun")
    rule = CouponRule.objects.create(
        code="RB-1",
        name="1付药-指定门店可用",
        creating_org=group,
        kind="u_value_exchange",
        u_value_price=2000,
        benefit="product",
        exchange_product=Product.objects.get_or_create(
            sku="6901234500042", defaults={"name": "煎药费1付"}
        )[0],
        effective_date=day - datetime.timedelta(days=30),
        valid_until=day + datetime.timedelta(days=300),
        total=10**9,
        status="approved",
        code_prefix="RB",
    )
    campaign = Campaign.objects.create(
        code="RBC-1",
        name="积分商城-煎药券-1付药",
        rule=rule,
        channel="points_mall",
        u_value_price=2000,
        starts_on=day - datetime.timedelta(days=30),
        ends_on=day + datetime.timedelta(days=30),
    )
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO members_member (member_no, name, phone, card_no, gender, source,
                   real_name_verified, registered_at, level, u_value, points, stored_value,
                   registration_store_id)
               SELECT 'RB' || g, '会员' || g, '138' || lpad(g::text, 8, '0'),
                      '56' || lpad(g::text, 8, '0'), 'U', 'pos', false, now(), '', 0, 0, 0,
                      (SELECT id FROM core_org WHERE code = 'R' || lpad((g % 100)::text, 3, '0'))
               FROM generate_series(1, 20000) g"""
        )
        cur.execute(
            """INSERT INTO coupons_coupon (id, rule_id, code, number, status, status_before_freeze,
                   channel, campaign_id, member_id, customer_name, obtained_at, valid_from,
                   valid_to, payment_method, u_value_paid, created_at, used_at, used_store_id)
               SELECT 1000000000 + g, %s, 'RB' || lpad(g::text, 9, '0'), g,
                      CASE WHEN g %% 3 = 0 THEN 'used' ELSE 'unused' END, '', 'u_value_exchange',
                      %s, (SELECT min(id) FROM members_member) + g %% 20000, '',
                      %s + (g %% 43200) * interval '1 second', %s, %s + interval '300 days', '',
                      2000, %s, CASE WHEN g %% 3 = 0 THEN %s + interval '13 hours' END,
                      CASE WHEN g %% 3 = 0 THEN (SELECT min(id) FROM core_org
                                                WHERE code LIKE 'R0%%') END
               FROM generate_series(1, %s) g""",
            [rule.pk, campaign.pk, start, start, start, start, start, changes],
        )
        cur.execute("ANALYZE coupons_coupon")
        cur.execute("ANALYZE members_member")
    FactRun.objects.create(since=None, until=start, as_of=start, status="succeeded")
    t = time.perf_counter()
    run = facts.build_facts()
    first = time.perf_counter() - t
    t = time.perf_counter()
    again = facts.build_facts(since=start, until=run.until, backfill=True)
    second = time.perf_counter() - t
    report(
        goal=f"nightly build, one day of {changes:,} changed coupons",
        measured=f"{first:.1f} s ({run.inserted + run.updated:,} written)",
        baseline=f"{second:.1f} s ({again.inserted + again.updated} written)",
        baseline_label="the same window again (idempotent: reads, writes nothing)",
        verdict="ok"
        if run.inserted == changes and again.inserted + again.updated == 0
        else "check",
    )


def run(report, *, quick: bool):
    from django.conf import settings

    settings.DATABASES["default"].setdefault("TEST", {}).update(
        {"NAME": settings.DATABASES["default"]["NAME"] + "_bench_reports", "CHARSET": None}
    )
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    n_facts, n_export, n_changes = (
        (200_000, 50_000, 20_000) if quick else (5_000_000, 1_000_000, 200_000)
    )
    connection = _setup_db()
    _orgs()
    t = time.perf_counter()
    _load_facts(connection, n_facts)
    print(f"bench_reports: {n_facts:,} fact rows ready in {time.perf_counter() - t:.0f} s")
    _page(report, quick)
    _export(report, n_export)
    _nightly(report, connection, n_changes)
