"""POS redemption under 20 concurrent tills on PostgreSQL: `POST /api/v1/coupons/redeem` with two
fresh coupons a call, next to the signed no-op `GET /api/v1/ping` measured in the same run against
the same gunicorn server under the same load. Two figures: closed loop (maximum throughput) and
open loop (each till one call every 0.5 s). Server and load generator: bench/_http.py."""

import datetime as dt
import json
import uuid
from decimal import Decimal

from bench import _http

CLIENTS = 20
INTERVAL = 0.5  # open loop: each till sends one call every half second
GOAL_MS = 20.0  # open loop p95 (issue #17)
GOAL_RATE = 140.0  # closed loop calls/s (issue #17)
SECRET = "bench-secret-0123456789"


def _prepare(total_coupons: int) -> tuple[str, str, list[str]]:
    from django.core.management import call_command
    from django.utils import timezone

    from api.models import ApiClient
    from couponhub.core.models import Org
    from coupons.models import Coupon, CouponRule

    call_command("migrate", verbosity=0)
    group = Org.objects.filter(code="BENCH-G").first() or Org.objects.create(
        code="BENCH-G", kind="group", name="压测集团"
    )
    store = Org.objects.filter(code="BENCH-S").first() or Org.objects.create(
        code="BENCH-S", kind="store", name="压测门店", parent=group
    )
    client, _ = ApiClient.objects.get_or_create(
        client_id="ck_bench_redeem", defaults={"name": "压测POS", "secret": SECRET, "store": store}
    )
    today = timezone.localdate()
    rule = CouponRule.objects.filter(code="BENCH-REDEEM").first()
    if rule is None:
        rule = CouponRule.objects.create(
            code="BENCH-REDEEM",
            name="压测满0减5",
            creating_org=group,
            benefit="cash",
            face_value=Decimal("5.00"),
            effective_date=today - dt.timedelta(days=1),
            valid_until=today + dt.timedelta(days=365),
            total=10_000_000,
            status="approved",
            code_prefix="BR",
        )
        rule.usable_orgs.set([group])
    run = uuid.uuid4().hex[:8].upper()
    now = timezone.now()
    coupons = [
        Coupon(
            rule=rule,
            code=f"BR{run}{i:06d}",
            status="unused",
            channel="claim",
            obtained_at=now,
            valid_from=now - dt.timedelta(days=1),
            valid_to=now + dt.timedelta(days=30),
        )
        for i in range(total_coupons)
    ]
    Coupon.objects.bulk_create(coupons, batch_size=2000)
    return client.client_id, store.code, [c.code for c in coupons]


def run(report, *, quick: bool):
    goal = f"redeem (2 coupons/call) p95 ≤ {GOAL_MS:.0f} ms, 0 errors @ {CLIENTS} tills"
    closed_per_client = 10 if quick else 40
    duration = 5 if quick else 20
    open_per_client = int(duration / INTERVAL)
    warm = 2
    total_calls = CLIENTS * (warm + closed_per_client + open_per_client)
    client_id, store_code, codes = _prepare(2 * total_calls)
    pairs = iter(zip(codes[::2], codes[1::2], strict=True))

    def redeem(n):  # pre-built and pre-signed, each call with two fresh coupons
        return [
            [
                _http.signed_request(
                    client_id=client_id,
                    secret=SECRET,
                    method="POST",
                    path="/api/v1/coupons/redeem",
                    body=json.dumps(
                        {"store_code": store_code, "codes": list(next(pairs))}
                    ).encode(),
                    idempotent=True,
                )
                for _ in range(n)
            ]
            for _ in range(CLIENTS)
        ]

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

    _http.compare_under_load(
        report,
        goal=goal,
        goal_ms=GOAL_MS,
        clients=CLIENTS,
        interval=INTERVAL,
        duration=duration,
        closed_per_client=closed_per_client,
        warm=warm,
        subject=redeem,
        baseline=ping,
        baseline_label="signed GET /api/v1/ping",
        goal_rate=GOAL_RATE,
    )
