"""Promo-code `validate` under 50 concurrent clients on PostgreSQL, next to the signed no-op
`GET /api/v1/ping` measured in the same run against the same gunicorn server."""

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

CLIENTS = 50
GOAL_MS = 15.0
SECRET = "bench-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    }


def _load(port, client_id, method, path, body: bytes, per_client: int):
    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        barrier.wait()
        for _ in range(per_client):
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

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]!r}")
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    return p95, statistics.median(latencies), len(latencies) / elapsed


def run(report, *, quick: bool):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        report(
            goal=f"validate p95 < {GOAL_MS:.0f} ms @ {CLIENTS} clients",
            measured="skipped: set DATABASE_URL to PostgreSQL",
            verdict="skipped",
        )
        return
    client_id = _prepare()
    per_client = 10 if quick else 40
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
            "8",
            "--log-level",
            "warning",
        ],
        cwd=root,
        env={**os.environ, "DJANGO_ENV": os.environ.get("DJANGO_ENV", "development")},
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
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
        # warm-up both paths, then measure the baseline and validate in the same run
        _load(port, client_id, "GET", "/api/v1/ping", b"", 2)
        _load(port, client_id, "POST", "/api/v1/promocodes/validate", body, 2)
        ping_p95, ping_p50, ping_rps = _load(
            port, client_id, "GET", "/api/v1/ping", b"", per_client
        )
        p95, p50, rps = _load(
            port, client_id, "POST", "/api/v1/promocodes/validate", body, per_client
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    report(
        goal=f"validate p95 < {GOAL_MS:.0f} ms @ {CLIENTS} clients (gunicorn {workers}×8 threads)",
        measured=f"p95 {p95:.1f} ms, p50 {p50:.1f} ms, {rps:.0f} req/s",
        baseline=f"p95 {ping_p95:.1f} ms, p50 {ping_p50:.1f} ms, {ping_rps:.0f} req/s",
        baseline_label="signed GET /api/v1/ping, same run",
        verdict="ok" if p95 < GOAL_MS else "over goal",
    )
