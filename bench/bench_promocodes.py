"""Promo-code `validate` under 50 concurrent clients on PostgreSQL, next to the signed no-op
`GET /api/v1/ping` measured in the same run against the same gunicorn server under the same load.
Two figures: closed loop (maximum throughput) and open loop (each client one call a second).
Server and load generator: bench/_http.py."""

import datetime as dt
import json
from decimal import Decimal

from bench import _http

CLIENTS = 50
INTERVAL = 1.0  # open loop: each checkout client validates once a second
GOAL_MS = 10.0  # open loop p95 (issue #17)
GOAL_RATE = 300.0  # closed loop calls/s (issue #17)
SECRET = "bench-secret-0123456789"


def _prepare():
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
        client_id="ck_bench_promo", defaults={"name": "bench", "secret": SECRET, "store": store}
    )
    department, _ = Department.objects.get_or_create(code="BENCH", defaults={"name": "压测部"})
    today = timezone.localdate()
    DepartmentBudget.objects.get_or_create(
        department=department,
        period_start=today.replace(month=1, day=1),
        defaults={"period_end": today.replace(month=12, day=31), "amount": Decimal("1000000")},
    )
    channel, _ = Channel.objects.get_or_create(
        prefix="BENCH",
        defaults={"name": "压测渠道", "department": department, "status": "enabled"},
    )
    if not PromoCode.objects.filter(code="BENCH80").exists():
        now = timezone.now()
        application = PromoCodeApplication.objects.create(
            org=group,
            subject="platform",
            channel=channel,
            department=department,
            activity_name="压测8折",
            generation="manual",
            discount_type="percent",
            discount_rate=Decimal("80"),
            floor_amount=Decimal("20"),
            cap_amount=Decimal("55.55"),
            max_uses=0,
            per_user_limit=3,
            valid_from=now - dt.timedelta(days=1),
            valid_to=now + dt.timedelta(days=30),
            status="approved",
        )
        application.stores.set([store])
        PromoCode.objects.create(code="BENCH80", application=application)
    return client.client_id


def run(report, *, quick: bool):
    goal = f"validate p95 ≤ {GOAL_MS:.0f} ms @ {CLIENTS} clients"
    client_id = _prepare()
    closed_per_client = 10 if quick else 40
    duration = 5 if quick else 20
    body = json.dumps(
        {
            "code": "BENCH80",
            "user_id": "bench-user",
            "is_new_user": False,
            "platform": "app",
            "delivery": "delivery",
            "store_code": "BENCH-S",
            "coupon_applied": False,
            "items": [
                {"sku": f"SKU{i}", "merchant": "", "category": "", "amount": "19.90"}
                for i in range(5)
            ],
        }
    ).encode()

    def requests(method, path, payload, n):  # pre-built and pre-signed
        return [
            [
                _http.signed_request(
                    client_id=client_id, secret=SECRET, method=method, path=path, body=payload
                )
                for _ in range(n)
            ]
            for _ in range(CLIENTS)
        ]

    def ping(n):
        return requests("GET", "/api/v1/ping", b"", n)

    def validate(n):
        return requests("POST", "/api/v1/promocodes/validate", body, n)

    _http.compare_under_load(
        report,
        goal=goal,
        goal_ms=GOAL_MS,
        clients=CLIENTS,
        interval=INTERVAL,
        duration=duration,
        closed_per_client=closed_per_client,
        subject=validate,
        baseline=ping,
        baseline_label="signed GET /api/v1/ping",
        goal_rate=GOAL_RATE,
    )
