"""POS redemption under 20 concurrent tills on PostgreSQL: `POST /api/v1/coupons/redeem` with two
fresh coupons a call, next to the signed no-op `GET /api/v1/ping` measured in the same run against
the same gunicorn server (DEBUG off)."""

import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

CLIENTS = 20
GOAL_MS = 60.0
SECRET = "bench-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def _signed(client_id, method, path, body: bytes):
    from api.signing import sign

    ts = str(int(time.time()))
    nonce = uuid.uuid4().hex
    return {
        "X-Client-Id": client_id,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": sign(SECRET, method, path, ts, nonce, body),
        "Content-Type": "application/json",
        "Idempotency-Key": nonce,
    }


def _load(port, client_id, method, path, bodies: list[list[bytes]]):
    """bodies[i] are the request bodies of client i, sent one after another."""
    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(bodies))

    def worker(mine_bodies):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        barrier.wait()
        for body in mine_bodies:
            headers = _signed(client_id, method, path, body)
            started = time.perf_counter()
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                errors.append(payload[:200])
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(b,)) for b in bodies]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    return p95, statistics.median(latencies), len(latencies) / elapsed, errors


def run(report, *, quick: bool):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        report(
            goal=f"redeem p95 < {GOAL_MS:.0f} ms @ {CLIENTS} tills",
            measured="skipped: set DATABASE_URL to PostgreSQL",
            verdict="skipped",
        )
        return
    per_client = 10 if quick else 40
    warm = 2
    client_id, store_code, codes = _prepare(CLIENTS * (per_client + warm) * 2)
    pairs = iter(zip(codes[::2], codes[1::2], strict=True))

    def redeem_bodies(n):
        return [
            [
                json.dumps({"store_code": store_code, "codes": list(next(pairs))}).encode()
                for _ in range(n)
            ]
            for _ in range(CLIENTS)
        ]

    port = _free_port()
    root = Path(__file__).resolve().parent.parent
    workers = str(min(8, (os.cpu_count() or 2)))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "couponhub.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            workers,
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=root,
        env={**os.environ, "DJANGO_ENV": "development", "DEBUG": "0"},
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        ping = [[b""] * per_client for _ in range(CLIENTS)]
        _load(port, client_id, "GET", "/api/v1/ping", [[b""] * warm for _ in range(CLIENTS)])
        _load(port, client_id, "POST", "/api/v1/coupons/redeem", redeem_bodies(warm))
        ping_p95, ping_p50, ping_rps, ping_errors = _load(
            port, client_id, "GET", "/api/v1/ping", ping
        )
        p95, p50, rps, errors = _load(
            port, client_id, "POST", "/api/v1/coupons/redeem", redeem_bodies(per_client)
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    report(
        goal=(
            f"redeem (2 coupons/call) p95 < {GOAL_MS:.0f} ms, 0 errors @ {CLIENTS} tills "
            f"(gunicorn {workers}×4 threads, DEBUG off)"
        ),
        measured=(
            f"p95 {p95:.1f} ms, p50 {p50:.1f} ms, {rps:.0f} calls/s, "
            f"{len(errors)} errors{f' e.g. {errors[0]!r}' if errors else ''}"
        ),
        baseline=(
            f"p95 {ping_p95:.1f} ms, p50 {ping_p50:.1f} ms, {ping_rps:.0f} calls/s, "
            f"{len(ping_errors)} errors"
        ),
        baseline_label="signed GET /api/v1/ping, same run",
        verdict="ok" if p95 < GOAL_MS and not errors else "over goal",
    )
