"""Shared harness of the HTTP benchmarks (bench_redemption, bench_promocodes).

The server: gunicorn as production starts it (gunicorn.conf.py: its worker model, the app's JSON
log lines; docker-compose.yml) with DJANGO_ENV=production (DEBUG off), dummy secrets, no HTTPS
redirect (SECURE_SSL_REDIRECT=0: the benchmark speaks plain HTTP to 127.0.0.1, as a
TLS-terminating proxy would), the bench's own DATABASE_URL and REDIS_URL, the access line of
every request written (to a log file in a temporary folder instead of stdout) and the metrics
counted across processes (PROMETHEUS_MULTIPROC_DIR, as docker-compose sets it).

The load: every request is built, signed and serialised to raw HTTP bytes before the clock starts;
a few client processes (not one process of threads) each run some client threads, every client on
a keep-alive connection while the server keeps it (production's sync workers close it after each
answer, so the client connects again for its next call, inside the measured time), reading
answers with a minimal parser. Two modes:

* closed loop: each client sends its next request as soon as it has the answer (the server's
  maximum throughput with that many clients in flight; latency there is mostly queueing);
* open loop: each client sends one request every `interval` seconds on a fixed schedule (clients
  staggered evenly); a request's latency runs from its *scheduled* send time, so a late answer
  that delays the next send still counts against the next request (no coordinated omission).
"""

import math
import multiprocessing
import os
import runpy
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPUS = os.cpu_count() or 2
# The worker model is production's, from gunicorn.conf.py (WEB_CONCURRENCY sets it there);
# BENCH_WORKERS / BENCH_THREADS / BENCH_WORKER_CLASS override it for an experiment.
_CONF = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
WORKERS = int(os.environ.get("BENCH_WORKERS") or _CONF["workers"])
THREADS = int(os.environ.get("BENCH_THREADS") or _CONF["threads"])
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS") or _CONF["worker_class"]
CLIENT_PROCESSES = int(os.environ.get("BENCH_CLIENT_PROCESSES", "4"))


def server_label() -> str:
    return (
        f"gunicorn {WORKERS} workers × {THREADS} threads ({WORKER_CLASS}, "
        f"gunicorn.conf.py), DJANGO_ENV=production, DEBUG off, {CPUS} CPUs shared with "
        f"PostgreSQL and the load generator"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in a child process, production settings; use as a context manager."""

    def __init__(self):
        self.port = _free_port()
        self.process = None
        self.folder = None

    def __enter__(self):
        from django.conf import settings
        from django.db import connections

        connections.close_all()
        self.folder = tempfile.TemporaryDirectory(prefix="bench-gunicorn-")
        metrics = Path(self.folder.name) / "prometheus"
        metrics.mkdir()
        env = {
            **os.environ,
            "DJANGO_ENV": "production",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # the bench process encrypted the API clients' secrets with these
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
        for name in ("DEBUG", "LOG_LEVEL", "LOG_FORMAT"):
            env.pop(name, None)  # production's: INFO, JSON
        # Production serves hashed static files from a manifest: pages need it collected first.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        self.log = open(Path(self.folder.name) / "gunicorn.log", "wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "couponhub.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WORKERS),
                "--threads",
                str(THREADS),
                "--worker-class",
                WORKER_CLASS,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()
        errors = [
            line
            for line in (Path(self.folder.name) / "gunicorn.log").read_text().splitlines()
            if '"level": "INFO"' not in line
        ]
        if errors:  # anything but the access lines and the start/stop lines is shown
            print("gunicorn said:\n  " + "\n  ".join(errors[:20]), file=sys.stderr)
        self.folder.cleanup()


def signed_request(
    *, client_id: str, secret: str, method: str, path: str, body: bytes = b"", idempotent=False
) -> bytes:
    """The raw bytes of one signed HTTP/1.1 request (SPEC.md §10), ready to send."""
    from couponhub.core.signing import sign

    ts = str(int(time.time()))
    nonce = uuid.uuid4().hex
    headers = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"X-Client-Id: {client_id}",
        f"X-Timestamp: {ts}",
        f"X-Nonce: {nonce}",
        f"X-Signature: {sign(secret, method, path, ts, nonce, body)}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if idempotent:
        headers.append(f"Idempotency-Key: {nonce}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


class _Connection:
    """One keep-alive connection; send raw bytes, read one response (status, body)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.closing = False

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                self.closing = True  # the server ends the connection: the next call opens one
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return status, rest[:length]

    def _fill(self):
        self.buffer += self._recv()

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        return chunk

    def close(self):
        self.sock.close()


def _client(port, requests, interval, offset, start_at, ok_status, out):
    """One client: closed loop when interval is None, else one request per interval.

    The connection is opened right before the first send, as a till does: an idle fresh
    connection would hold a gunicorn gthread thread while it waits for the request's bytes."""
    conn = None
    latencies, errors = [], []
    delay = max(0.0, start_at - time.time())
    time.sleep(delay)
    began = time.perf_counter()
    try:
        for k, request in enumerate(requests):
            if interval is None:
                scheduled = time.perf_counter()
            else:
                scheduled = began + offset + k * interval
                wait = scheduled - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            try:
                conn = conn or _Connection(port)
                status, body = conn.exchange(request)
                if conn.closing:
                    conn.close()
                    conn = None
            except OSError as exc:
                errors.append(f"connection: {exc!r}"[:200])
                if conn:
                    conn.close()
                conn = None
                continue
            latencies.append((time.perf_counter() - scheduled) * 1000)
            if status != ok_status:
                errors.append(f"{status} {body[:200]!r}")
    except Exception as exc:  # never lose a client's figures silently
        errors.append(f"client: {exc!r}"[:200])
    finally:
        if conn:
            conn.close()
        out.append((latencies, errors, began, time.perf_counter()))


def _process(port, batches, interval, offsets, start_at, ok_status, queue):
    out: list = []
    threads = [
        threading.Thread(target=_client, args=(port, b, interval, o, start_at, ok_status, out))
        for b, o in zip(batches, offsets, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


@dataclass
class Result:
    count: int
    errors: list[str]
    p50: float
    p95: float
    p99: float
    rate: float  # answered requests per second

    def summary(self) -> str:
        first = f" e.g. {self.errors[0]}" if self.errors else ""
        return (
            f"p50 {self.p50:.1f} ms, p95 {self.p95:.1f} ms, p99 {self.p99:.1f} ms, "
            f"{self.rate:.0f} calls/s, {self.count} calls, {len(self.errors)} errors{first}"
        )


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def run_load(
    port: int,
    per_client: list[list[bytes]],
    interval: float | None = None,
    ok_status: int = 200,
) -> Result:
    """Send per_client[i] over client i's connection (closed loop, or one every `interval` s);
    any answer other than `ok_status` counts as an error."""
    clients = len(per_client)
    processes = max(1, min(CLIENT_PROCESSES, clients))
    offsets = [0.0 if interval is None else interval * i / clients for i in range(clients)]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    start_at = time.time() + 0.5  # every process ready before the first send
    procs = [
        ctx.Process(
            target=_process,
            args=(
                port,
                per_client[p::processes],
                interval,
                offsets[p::processes],
                start_at,
                ok_status,
                queue,
            ),
        )
        for p in range(processes)
    ]
    for proc in procs:
        proc.start()
    results = [r for _ in procs for r in queue.get()]
    for proc in procs:
        proc.join()
    latencies = sorted(x for r in results for x in r[0])
    errors = [e for r in results for e in r[1]]
    elapsed = max(r[3] for r in results) - min(r[2] for r in results)
    return Result(
        count=sum(len(requests) for requests in per_client),
        errors=errors,
        p50=_percentile(latencies, 0.50),
        p95=_percentile(latencies, 0.95),
        p99=_percentile(latencies, 0.99),
        rate=len(latencies) / elapsed if elapsed > 0 else 0.0,
    )


def compare_under_load(
    report,
    *,
    goal: str,
    goal_ms: float,
    clients: int,
    interval: float,
    duration: int,
    closed_per_client: int,
    subject,
    baseline,
    baseline_label: str,
    subject_ok: int = 200,
    baseline_ok: int = 200,
    warm: int = 2,
    built: str = "pre-signed",
    goal_rate: float | None = None,
) -> None:
    """Measure `subject(n)` next to `baseline(n)` (each: per-client lists of n raw requests) on one
    gunicorn server, closed loop and open loop, and report both figures. With `goal_rate`, the
    closed loop's goal is that throughput (calls/s) and `goal_ms` is the open loop's p95."""
    open_per_client = int(duration / interval)
    with Server() as server:
        port = server.port
        run_load(port, baseline(warm), ok_status=baseline_ok)
        run_load(port, subject(warm), ok_status=subject_ok)
        closed_base = run_load(port, baseline(closed_per_client), ok_status=baseline_ok)
        closed = run_load(port, subject(closed_per_client), ok_status=subject_ok)
        open_base = run_load(port, baseline(open_per_client), interval, ok_status=baseline_ok)
        opened = run_load(port, subject(open_per_client), interval, ok_status=subject_ok)
    setup = f"[{server_label()}; {CLIENT_PROCESSES} client processes, {built}]"
    if goal_rate is None:
        closed_goal, closed_ok = goal, closed.p95 < goal_ms
    else:
        closed_goal, closed_ok = (
            f"{goal}, closed loop ≥ {goal_rate:.0f} calls/s",
            (closed.rate >= goal_rate),
        )
    report(
        goal=f"{closed_goal}: closed loop (max throughput, each client resends at once) {setup}",
        measured=closed.summary(),
        baseline=closed_base.summary(),
        baseline_label=f"{baseline_label}, same server, same load",
        verdict="ok" if closed_ok and not closed.errors else "over goal",
    )
    report(
        goal=(
            f"{goal}: open loop, each client one call every {interval:g} s "
            f"({clients / interval:.0f} calls/s offered, {duration} s; latency from the "
            f"scheduled send) {setup}"
        ),
        measured=opened.summary(),
        baseline=open_base.summary(),
        baseline_label=f"{baseline_label}, same schedule",
        verdict="ok" if opened.p95 < goal_ms and not opened.errors else "over goal",
    )
