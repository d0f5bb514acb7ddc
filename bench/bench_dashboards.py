"""Dashboards (issue 18): the home page of each role on the report bench's database (its fact
rows, 100 stores), next to a plain page of the same layout (the password change) in the same run.

Uses `<name>_bench_reports` as bench_reports does (created and loaded on first use, kept).
Full size: 5,000,000 U-value fact rows and 730,000 daily redemption facts (100 stores × 730
days × 10 rules); --quick: 200,000 and 146,000 (365 days × 4 rules). The HQ panel is measured
twice: with its 5-minute cache cleared before every request (what the first visitor waits for)
and warm.
"""

import statistics
import time

from bench import bench_reports

GOAL_MS = 300


def _load_redemption_facts(connection, days: int, rules: int):
    """Daily redemption facts for every bench store × day × rule (the store manager's week and
    HQ's per-day chart and totals read them)."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM reports_redemptiondailyfact")
        if cur.fetchone()[0] == 100 * days * rules:
            return
        cur.execute("TRUNCATE reports_redemptiondailyfact")
        cur.execute(
            """
            INSERT INTO reports_redemptiondailyfact
                (day, store_id, store_name, org_path, rule_id, rule_code, rule_name, count,
                 face_value)
            SELECT current_date - d, o.id, o.name, o.path, r, 'YHQ-' || r, '券' || r,
                   1 + (d * 7 + r + o.id) %% 13, 20 * (1 + (d * 7 + r + o.id) %% 13)
            FROM core_org o, generate_series(1, %s) d, generate_series(1, %s) r
            WHERE o.kind = 'store' AND o.code LIKE 'R%%'
            """,
            [days, rules],
        )
        cur.execute("ANALYZE reports_redemptiondailyfact")


def _p95(client, url, runs, before=None):
    client.get(url)  # warm the process
    times = []
    for _ in range(runs):
        if before:
            before()
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.quantiles(times, n=20)[-1]


def _users():
    from couponhub.core.models import Org, RoleAssignment, User

    group, store = Org.objects.get(code="RG"), Org.objects.get(code="R007")
    users = {}
    for role, org in [
        ("clerk", store),
        ("store_manager", store),
        ("operator", group),
        ("finance", group),
        ("hq", group),
        ("admin", group),
    ]:
        user, _created = User.objects.get_or_create(username=f"bench_dash_{role}")
        RoleAssignment.objects.get_or_create(user=user, role=role, org=org)
        users[role] = user
    return users


def run(report, *, quick: bool):
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    settings.DATABASES["default"].setdefault("TEST", {}).update(
        {"NAME": settings.DATABASES["default"]["NAME"] + "_bench_reports", "CHARSET": None}
    )
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    n_facts = 200_000 if quick else 5_000_000
    connection = bench_reports._setup_db()
    bench_reports._orgs()
    bench_reports._load_facts(connection, n_facts)
    days, rules = (365, 4) if quick else (730, 10)
    _load_redemption_facts(connection, days, rules)
    runs = 10 if quick else 30
    home, plain = reverse("home"), reverse("core:password_change")
    for role, user in _users().items():
        client = Client()
        client.force_login(user)
        baseline = _p95(client, plain, runs)
        cases = [(f"home of {role}", None)]
        if role == "hq":
            cases = [("home of hq, KPI cache cold", cache.clear), ("home of hq, warm", None)]
        for label, before in cases:
            measured = _p95(client, home, runs, before)
            report(
                goal=f"{label}: p95 ≤ {GOAL_MS} ms ({n_facts:,} facts)",
                measured=f"{measured:.0f} ms",
                baseline=f"{baseline:.0f} ms",
                baseline_label="password page, same layout",
                verdict="ok" if measured <= GOAL_MS else "over",
            )
