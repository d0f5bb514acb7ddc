"""Member lookup on a large database, and bulk gift issuance (issue 3).

Works in a separate database `<name>_bench_members`, created and
migrated on first use and kept, so later runs skip the loading. Full size: 1,000,000 members and
10,000,000 coupons (loading takes minutes); --quick: 20,000 members and 200,000 coupons.
"""

import datetime
import random
import statistics
import time

N_RULES = 50


def _setup_db():
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=False, keepdb=True)
    return connection


def _load(connection, members: int, coupons: int):
    from django.utils import timezone

    from couponhub.core.models import Org, RoleAssignment, User
    from coupons.models import CouponRule

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM members_member WHERE member_no LIKE 'B%%'")
        have_members = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM coupons_coupon WHERE code LIKE 'BX%%'")
        have_coupons = cur.fetchone()[0]
    if have_members == members and have_coupons == coupons:
        return
    with connection.cursor() as cur:
        cur.execute("TRUNCATE members_member, coupons_coupon, coupons_couponrule CASCADE")
    group = Org.objects.filter(code="BG").first()
    if group is None:
        from couponhub.core.services import create_org

        group = create_org(actor=None, kind="group", code="BG", name="集团")
        region = create_org(actor=None, kind="region", code="BR", name="零售", parent=group)
        store = create_org(actor=None, kind="store", code="B380", name="蓝港店", parent=region)
        clerk = User.objects.create_user(username="bench_clerk", password="x")
        RoleAssignment.objects.create(user=clerk, role="clerk", org=store)
    today = timezone.localdate()
    rules = []
    for i in range(N_RULES):
        rule = CouponRule.objects.create(
            code=f"BENCH-{i:03d}",
            name=f"满300减{i}",
            creating_org=group,
            benefit="cash",
            face_value=20,
            effective_date=today - datetime.timedelta(days=30),
            valid_until=today + datetime.timedelta(days=300),
            code_prefix=f"B{i}",
            total=10**9,
            status="approved",
        )
        rule.usable_orgs.set([group if i % 2 else Org.objects.get(code="B380")])
        rules.append(rule.pk)
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO members_member (member_no, name, phone, card_no, gender, source,
                real_name_verified, registered_at, level, u_value, points, stored_value)
            SELECT 'B' || g, '会员' || g, (15000000000 + g)::text, (8800000000 + g)::text, 'U',
                'pos', false, now(), '金卡', 0, 0, 0
            FROM generate_series(1, %s) g
            """,
            [members],
        )
        cur.execute("SELECT min(id) FROM members_member")
        first_member = cur.fetchone()[0]
        cur.execute(
            """
            INSERT INTO coupons_coupon (rule_id, code, number, status, status_before_freeze,
                channel, member_id, customer_name, obtained_at, valid_from, valid_to,
                payment_method, created_at, used_at)
            SELECT (%s::bigint[])[1 + g %% %s], 'BX' || g, g,
                (ARRAY['unused','unused','unused','unused','used','used','expired','voided',
                       'frozen','unused'])[1 + (g / 7) %% 10],
                '', 'claim', %s + (g %% %s), '', now(), now() - interval '1 day',
                CASE WHEN g %% 13 = 0 THEN now() - interval '1 hour'
                     ELSE now() + interval '30 days' END,
                '', now(), now()
            FROM generate_series(1, %s) g
            """,
            [rules, N_RULES, first_member, members, coupons],
        )
        cur.execute("ANALYZE")


def _lookup(report, connection, members: int, coupons: int):
    from django.db import reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from couponhub.core.models import User

    client = Client()
    client.force_login(User.objects.get(username="bench_clerk"))
    rng = random.Random(7)
    phones = [str(15000000000 + rng.randint(1, members)) for _ in range(300)]
    for phone in phones[:20]:  # warm up
        client.get("/redemption/lookup/", {"q": phone})
    times = []
    with CaptureQueriesContext(connection) as ctx:
        start = len(ctx.captured_queries)
        client.get("/redemption/lookup/", {"q": phones[0]})
        n_queries = len(ctx.captured_queries) - start
    for phone in phones:
        t = time.perf_counter()
        resp = client.get("/redemption/lookup/", {"q": phone})
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200
        reset_queries()
    p95 = statistics.quantiles(times, n=20)[18]
    # baseline in the same run: the cheapest page a logged-in user gets (home)
    base = []
    for _ in range(100):
        t = time.perf_counter()
        client.get("/")
        base.append((time.perf_counter() - t) * 1000)
    report(
        goal=f"member lookup p95 < 50 ms ({members:,} members, {coupons:,} coupons)",
        measured=f"p95 {p95:.1f} ms, median {statistics.median(times):.1f} ms, {n_queries} queries",
        baseline=f"{statistics.quantiles(base, n=20)[18]:.1f} ms",
        baseline_label="home page p95",
        verdict="ok" if p95 < 50 else "slow",
    )


def _gift(report, connection, count: int):
    from django.db import transaction

    from coupons import services
    from coupons.models import Coupon, CouponRule
    from members.models import Member

    template = CouponRule.objects.get(code="BENCH-001")
    rule = CouponRule.objects.filter(code="BENCH-GIFT").first()
    if rule is None:
        rule = CouponRule.objects.get(pk=template.pk)
        rule.pk, rule.code, rule.code_prefix, rule.issued_count = None, "BENCH-GIFT", "GF", 0
        rule.save()
    ids = list(Member.objects.order_by("id").values_list("id", flat=True)[:count])
    t = time.perf_counter()
    services.gift_coupons(actor=None, rule=rule, member_ids=ids)
    ours = time.perf_counter() - t
    now = datetime.datetime.now(datetime.UTC)
    rows = [
        Coupon(
            rule=rule,
            code=f"BB{i}",
            number=None,
            status="unused",
            channel="gift",
            member_id=m,
            obtained_at=now,
            valid_from=now,
            valid_to=now,
        )
        for i, m in enumerate(ids)
    ]
    t = time.perf_counter()
    with transaction.atomic():
        Coupon.objects.bulk_create(rows, batch_size=5000)
    plain = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("DELETE FROM coupons_coupon WHERE rule_id = %s AND channel = 'gift'", [rule.pk])
    CouponRule.objects.filter(pk=rule.pk).update(issued_count=0)
    report(
        goal=f"gift {count:,} coupons: coupons/s",
        measured=f"{count / ours:,.0f}/s ({ours:.2f} s, locked, limits checked, audited)",
        baseline=f"{count / plain:,.0f}/s ({plain:.2f} s)",
        baseline_label="plain bulk_create, same rows",
        verdict="ok" if count / ours >= 100_000 else "below 100k/s",
    )


def run(report, *, quick: bool):
    from django.conf import settings

    settings.DATABASES["default"].setdefault("TEST", {}).update(
        {"NAME": settings.DATABASES["default"]["NAME"] + "_bench_members", "CHARSET": None}
    )
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    members, coupons = (20_000, 200_000) if quick else (1_000_000, 10_000_000)
    connection = _setup_db()
    t = time.perf_counter()
    _load(connection, members, coupons)
    print(f"bench_members: data ready in {time.perf_counter() - t:.0f} s")
    _lookup(report, connection, members, coupons)
    _gift(report, connection, 10_000 if quick else 100_000)
