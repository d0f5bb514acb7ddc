"""A hot promo code: `POST /api/v1/promocodes/use` by 50 clients at once, next to the signed no-op
`GET /api/v1/ping` measured in the same run against the same gunicorn server under the same load.

Two scenarios, each on its own department budget (platform codes, unlimited uses, no per-user
limit, every client its own user and order numbers, an Idempotency-Key on every call):

* one code: all 50 clients use the same code, so the code's row and the budget row are hot;
* 50 codes of one department: client i uses code i, so only the budget row is hot.

Each is measured two ways, and the two answer different questions:

* open loop — the goal (issue #17): each of the 50 clients sends one use a second on a fixed
  schedule, staggered, for DURATION s: 50 uses/s offered whatever the answers, and a use's
  latency runs from its scheduled send (a late answer delays nothing unseen). p95 ≤ 100 ms,
  0 errors, no overspend.
* closed loop — the throughput, stated: each client sends its next use as soon as it has an
  answer, so the offered rate is whatever the server carries, and by Little's law a use's
  latency is 50 clients ÷ that rate (a p95 ≤ 100 ms there would need ≥ 500 uses/s on one row).
  Its latency is queueing, not a goal.

After each scenario the database is checked: no overspend (the budget's `spent` equals the sum of
the discounts of the uses recorded, and stays within the budget) and every use counted once on
its code. A hot row is locked from its UPDATE to the end of its COMMIT, which waits for the WAL
to reach the disk, so one row carries at most 1 ÷ (statement + flush) uses a second: the flush
time of this PostgreSQL (a one-row UPDATE committed 200 times, the same run) is stated with the
closed loop. Server and load: bench/_http.py.
"""

import datetime as dt
import json
import uuid
from decimal import Decimal

from bench import _http

CLIENTS = 50
INTERVAL = 1.0  # open loop: each client uses the code once a second
DURATION = 30
GOAL_MS = 100.0
SECRET = "bench-secret-0123456789"
BUDGET = Decimal("100000000.00")


def _prepare() -> tuple[str, dict[str, list[str]]]:
    from django.core.management import call_command
    from django.utils import timezone

    from api.models import ApiClient
    from couponhub.core.models import Org
    from promocodes.models import (
        Channel,
        Department,
        DepartmentBudget,
        PromoCode,
        PromoCodeApplication,
    )

    call_command("migrate", verbosity=0)
    group, _ = Org.objects.get_or_create(
        code="BENCH-G", defaults={"kind": "group", "name": "压测集团", "path": "/"}
    )
    if group.path == "/":
        group.path = f"/{group.pk}/"
        group.save(update_fields=["path"])
    store, _ = Org.objects.get_or_create(
        code="BENCH-S",
        defaults={"kind": "store", "name": "压测门店", "parent": group, "path": "/"},
    )
    if store.path == "/":
        store.path = f"{group.path}{store.pk}/"
        store.save(update_fields=["path"])
    client, _ = ApiClient.objects.get_or_create(
        client_id="ck_bench_hot", defaults={"name": "bench hot", "secret": SECRET, "store": store}
    )
    today = timezone.localdate()
    now = timezone.now()
    scenarios = {}
    for key, count in (("one code", 1), ("50 codes, one budget", CLIENTS)):
        dept_code = "BENCHHOT1" if count == 1 else "BENCHHOT50"
        department, _ = Department.objects.get_or_create(
            code=dept_code, defaults={"name": f"压测热点部{count}"}
        )
        DepartmentBudget.objects.update_or_create(
            department=department,
            period_start=today.replace(month=1, day=1),
            defaults={"period_end": today.replace(month=12, day=31), "amount": BUDGET},
        )
        channel, _ = Channel.objects.get_or_create(
            prefix=dept_code,
            defaults={
                "name": f"压测热点渠道{count}",
                "department": department,
                "status": "enabled",
            },
        )
        codes = [f"{dept_code}X{i:02d}" for i in range(count)]
        if not PromoCode.objects.filter(code=codes[0]).exists():
            application = PromoCodeApplication.objects.create(
                org=group,
                subject="platform",
                channel=channel,
                department=department,
                activity_name=f"压测热点8折{count}",
                generation="manual",
                discount_type="percent",
                discount_rate=Decimal("80"),
                floor_amount=Decimal("20"),
                cap_amount=Decimal("55.55"),
                max_uses=0,
                per_user_limit=0,
                valid_from=now - dt.timedelta(days=1),
                valid_to=now + dt.timedelta(days=365),
                status="approved",
            )
            application.stores.set([store])
            PromoCode.objects.bulk_create(
                PromoCode(code=code, application=application) for code in codes
            )
        scenarios[key] = codes
    return client.client_id, scenarios


def _ledger(codes: list[str]) -> dict:
    """What the database says about these codes: uses, counts, the budget's spent."""
    from django.db.models import Sum

    from promocodes.models import DepartmentBudget, PromoCode, PromoCodeUse

    live = PromoCodeUse.objects.filter(code__code__in=codes, cancelled_at__isnull=True)
    counts = PromoCode.objects.filter(code__in=codes).values_list("uses_count", flat=True)
    budget = DepartmentBudget.objects.get(
        department__channels__prefix=codes[0].split("X")[0], amount=BUDGET
    )
    return {
        "uses": live.count(),
        "discounts": live.aggregate(s=Sum("discount"))["s"] or Decimal("0"),
        "counted": sum(counts),
        "spent": budget.spent,
        "amount": budget.amount,
    }


def _audit(before: dict, after: dict) -> tuple[str, bool]:
    uses = after["uses"] - before["uses"]
    discounts = after["discounts"] - before["discounts"]
    spent = after["spent"] - before["spent"]
    counted = after["counted"] - before["counted"]
    ok = spent == discounts and counted == uses and after["spent"] <= after["amount"]
    text = (
        f"{uses} uses recorded, budget charged ¥{spent:,.2f} = Σ discounts ¥{discounts:,.2f}, "
        f"codes counted {counted}; {'no overspend' if ok else 'MISMATCH'}"
    )
    return text, ok


def _commit_time() -> str:
    """p50/p95 of a one-row UPDATE in its own transaction: the WAL flush a hot row's lock
    outlasts, on this machine now (a flush waits behind every other writer's WAL)."""
    import time

    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (id int PRIMARY KEY, n int)")
        cursor.execute("INSERT INTO bench_commit_probe VALUES (1, 0) ON CONFLICT DO NOTHING")
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute("UPDATE bench_commit_probe SET n = n + 1 WHERE id = 1")
            times.append((time.perf_counter() - started) * 1000)
        cursor.execute("DROP TABLE bench_commit_probe")
    times.sort()
    return f"one-row UPDATE + COMMIT here: p50 {times[99]:.2f} ms, p95 {times[189]:.2f} ms"


def run(report, *, quick: bool):
    client_id, scenarios = _prepare()
    closed_per_client = 10 if quick else 40
    duration = 5 if quick else DURATION
    open_per_client = int(duration / INTERVAL)
    run_id = uuid.uuid4().hex[:6].upper()
    items = [{"sku": f"SKU{i}", "amount": "19.90"} for i in range(5)]
    counter = iter(range(10**9))

    def use(codes, n):  # pre-built and pre-signed; every call a new order
        per_client = []
        for c in range(CLIENTS):
            code = codes[c % len(codes)]
            calls = []
            for _ in range(n):
                body = {
                    "code": code,
                    "user_id": f"hot-user-{c}",
                    "platform": "app",
                    "delivery": "delivery",
                    "store_code": "BENCH-S",
                    "items": items,
                    "order_no": f"HOT{run_id}-{next(counter)}",
                }
                calls.append(
                    _http.signed_request(
                        client_id=client_id,
                        secret=SECRET,
                        method="POST",
                        path="/api/v1/promocodes/use",
                        body=json.dumps(body).encode(),
                        idempotent=True,
                    )
                )
            per_client.append(calls)
        return per_client

    def ping(n):
        return [
            [
                _http.signed_request(
                    client_id=client_id, secret=SECRET, method="GET", path="/api/v1/ping"
                )
                for _ in range(n)
            ]
            for _ in range(CLIENTS)
        ]

    setup = (
        f"[{_http.server_label()}; {_http.CLIENT_PROCESSES} client processes, pre-signed, "
        f"Idempotency-Key on every call]"
    )
    with _http.Server() as server:
        port = server.port
        _http.run_load(port, ping(2))
        for name, codes in scenarios.items():
            _http.run_load(port, use(codes, 2))
            before = _ledger(codes)
            flush = _commit_time()
            closed_base = _http.run_load(port, ping(closed_per_client))
            closed = _http.run_load(port, use(codes, closed_per_client))
            open_base = _http.run_load(port, ping(open_per_client), INTERVAL)
            opened = _http.run_load(port, use(codes, open_per_client), INTERVAL)
            ledger, ledger_ok = _audit(before, _ledger(codes))
            report(
                goal=(
                    f"hot promo code, {name}: use @ {CLIENTS} clients, closed loop: throughput "
                    f"stated (each client resends at once, so the offered rate is what the server "
                    f"carries; latency = {CLIENTS} ÷ rate, queueing) {setup}"
                ),
                measured=f"{closed.summary()}; {flush}",
                baseline=closed_base.summary(),
                baseline_label="signed GET /api/v1/ping, same server, same load",
                verdict="stated" if not closed.errors and ledger_ok else "errors",
            )
            report(
                goal=(
                    f"hot promo code, {name}: use p95 ≤ {GOAL_MS:.0f} ms, 0 errors, no overspend "
                    f"@ {CLIENTS / INTERVAL:.0f} uses/s offered: open loop, {CLIENTS} clients each "
                    f"one use every {INTERVAL:g} s on a fixed schedule for {duration} s, latency "
                    f"from the scheduled send {setup}"
                ),
                measured=f"{opened.summary()}; {ledger}",
                baseline=open_base.summary(),
                baseline_label="signed GET /api/v1/ping, same schedule",
                verdict=(
                    "ok"
                    if opened.p95 <= GOAL_MS and not opened.errors and ledger_ok
                    else "over goal"
                ),
            )
