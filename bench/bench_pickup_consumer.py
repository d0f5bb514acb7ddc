"""The consumer's code + password check under 50 concurrent clients on PostgreSQL:
`POST /pickup/c/` (CSRF form, right password → 302 to the card page; rate-limit bookkeeping,
advisory lock, Fernet decryption, session write included), next to a no-op page (a 404 through
the same middleware) measured in the same run against the same gunicorn server (DEBUG off)."""

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

CLIENTS = 50
GOAL_MS = 50.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(total: int) -> list[tuple[str, str]]:
    from django.core.management import call_command

    from pickup import services
    from pickup.models import CardType, PasswordAttempt, PickupCode, Product

    call_command("migrate", verbosity=0)
    card = CardType.objects.filter(name="压测卡券").first()
    if card is None:
        from pickup.models import Category

        category, _ = Category.objects.get_or_create(name="压测类别")
        product = Product.objects.create(name="压测商品", category=category)
        card = services.save_card_type(
            actor=None, card_type=CardType(name="压测卡券"), items=[(product, 1)], stores=[]
        )
    batch = services.create_code_batch(
        actor=None,
        card_type=card,
        spec=services.GenerationSpec(quantity=total, prefix="BP", code_length=12),
        background=False,
    )
    services.fill_code_batch(batch)
    PasswordAttempt.objects.filter(client_ip="127.0.0.1").delete()
    return [(c.code, c.password) for c in PickupCode.objects.filter(batch=batch)]


def _client_session(conn) -> tuple[str, str]:
    """GET the form once: the csrftoken cookie and the form's token."""
    conn.request("GET", "/pickup/c/")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie", "")
    csrf_cookie = re.search(r"csrftoken=([^;]+)", cookie).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return csrf_cookie, token


def _load(port, per_client: list[list[tuple[str, str]]] | None, rounds: int = 0):
    """per_client[i]: the (code, password) pairs client i checks one after another; None → the
    no-op page `rounds` times per client."""
    n = len(per_client) if per_client is not None else CLIENTS
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def worker(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], []
        if per_client is not None:
            csrf_cookie, token = _client_session(conn)
        barrier.wait()
        jobs = per_client[i] if per_client is not None else [None] * rounds
        for job in jobs:
            started = time.perf_counter()
            if job is None:
                conn.request("GET", "/pickup/noop/")
                response = conn.getresponse()
                response.read()
                ok = response.status == 404
            else:
                body = urllib.parse.urlencode(
                    {"csrfmiddlewaretoken": token, "code": job[0], "password": job[1]}
                )
                conn.request(
                    "POST",
                    "/pickup/c/",
                    body=body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": f"csrftoken={csrf_cookie}",
                    },
                )
                response = conn.getresponse()
                response.read()
                ok = response.status == 302 and response.getheader("Location") == "/pickup/c/card/"
            mine.append((time.perf_counter() - started) * 1000)
            if not ok:
                bad.append(f"{response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
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
            goal=f"code+password check p95 < {GOAL_MS:.0f} ms @ {CLIENTS} clients",
            measured="skipped: set DATABASE_URL to PostgreSQL",
            verdict="skipped",
        )
        return
    per_client = 5 if quick else 20
    warm = 1
    pairs = _prepare(CLIENTS * (per_client + warm))
    chunks = [pairs[i::CLIENTS] for i in range(CLIENTS)]
    warm_jobs = [c[:warm] for c in chunks]
    jobs = [c[warm:] for c in chunks]

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
        _load(port, None, rounds=2)
        _load(port, warm_jobs)
        noop_p95, noop_p50, noop_rps, noop_errors = _load(port, None, rounds=per_client)
        p95, p50, rps, errors = _load(port, jobs)
    finally:
        server.terminate()
        server.wait(timeout=10)
    report(
        goal=(
            f"consumer code+password check p95 < {GOAL_MS:.0f} ms, 0 errors @ {CLIENTS} "
            f"clients (gunicorn {workers}×4 threads, DEBUG off)"
        ),
        measured=(
            f"p95 {p95:.1f} ms, p50 {p50:.1f} ms, {rps:.0f} checks/s, "
            f"{len(errors)} errors{f' e.g. {errors[0]!r}' if errors else ''}"
        ),
        baseline=(
            f"p95 {noop_p95:.1f} ms, p50 {noop_p50:.1f} ms, {noop_rps:.0f} calls/s, "
            f"{len(noop_errors)} errors"
        ),
        baseline_label="no-op page (GET 404 through the same middleware), same run",
        verdict="ok" if p95 < GOAL_MS and not errors else "over goal",
    )
