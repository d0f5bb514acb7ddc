"""/healthz and /readyz, and the workers' heartbeat they read.

/healthz: the process answers (no I/O). /readyz: PostgreSQL answers and every migration is
applied, Redis and the broker answer, and a worker of each queue beat within the last minute.
Both are JSON, open to anyone (a load balancer asks them), and say only "ok" or "failing" per
check: never a version, a host, an address or an exception's text (the exception goes to the log).

A worker beats from a small thread started when it is ready (`worker_ready`), every
HEARTBEAT_EVERY seconds, for each queue it consumes: a key with a TTL in Redis, or a file under
var/celery/heartbeat with the filesystem broker of `make run` without Redis. The thread touches
no database.
"""

import logging
import threading
import time
from pathlib import Path

import redis
from celery import current_app, signals
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

QUEUES = ("interactive", "bulk")
HEARTBEAT_EVERY = 15  # seconds
HEARTBEAT_FRESH = 60  # a beat older than this means no live worker
_KEY = "couponhub:worker-heartbeat:{queue}"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2, health_check_interval=0
    )


def _heartbeat_dir() -> Path:
    return Path(settings.VAR_DIR) / "celery" / "heartbeat"


def queue_lengths() -> list[int | None]:
    """Tasks waiting in each of QUEUES (Redis only; None with the filesystem broker). Kombu
    keeps a queue's messages in a list of its name, and one per priority step beside it."""
    if not settings.REDIS_URL:
        return [None for _ in QUEUES]
    client = _redis()
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in QUEUES:
                pipe.llen(queue)
                for step in (3, 6, 9):
                    pipe.llen(f"{queue}\x06\x16{step}")
            counts = pipe.execute()
    finally:
        client.close()
    per_queue = len(counts) // len(QUEUES)
    return [sum(counts[i * per_queue : (i + 1) * per_queue]) for i in range(len(QUEUES))]


def beat(queues) -> None:
    """Record that a worker consuming `queues` is alive now."""
    now = time.time()
    if settings.REDIS_URL:
        client = _redis()
        try:
            for queue in queues:
                client.set(_KEY.format(queue=queue), f"{now:.0f}", ex=HEARTBEAT_FRESH * 2)
        finally:
            client.close()
    else:
        folder = _heartbeat_dir()
        folder.mkdir(parents=True, exist_ok=True)
        for queue in queues:
            (folder / queue).write_text(f"{now:.0f}")


def last_beats() -> dict[str, float | None]:
    """Seconds since a worker of each queue last beat (None: never, or too long ago)."""
    now = time.time()
    seen: dict[str, float | None] = {}
    if settings.REDIS_URL:
        client = _redis()
        try:
            values = client.mget([_KEY.format(queue=q) for q in QUEUES])
        finally:
            client.close()
        for queue, value in zip(QUEUES, values, strict=True):
            seen[queue] = now - float(value) if value else None
    else:
        for queue in QUEUES:
            path = _heartbeat_dir() / queue
            seen[queue] = now - path.stat().st_mtime if path.exists() else None
    return seen


def _beat_forever(queues) -> None:
    while True:
        try:
            beat(queues)
        except Exception:  # Redis away for a moment: readyz says so; keep beating
            logger.warning("worker heartbeat not recorded", exc_info=True)
        time.sleep(HEARTBEAT_EVERY)


@signals.worker_ready.connect(weak=False)
def _start_heartbeat(sender=None, **_):
    queues = sorted(q for q in current_app.amqp.queues.consume_from or QUEUES if q in QUEUES)
    threading.Thread(
        target=_beat_forever, args=(queues,), name="couponhub-heartbeat", daemon=True
    ).start()


# Once a process has seen every migration applied it stays so: the code cannot change under it.
_migrated = False


def _check_database() -> dict[str, str]:
    global _migrated
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if not _migrated:
        executor = MigrationExecutor(connection)
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return {"database": "ok", "migrations": "ok" if _migrated else "failing"}


def _check_redis() -> dict[str, str]:
    if not settings.REDIS_URL:
        return {}
    client = _redis()
    try:
        client.ping()
    finally:
        client.close()
    return {"redis": "ok"}


def _check_broker() -> dict[str, str]:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"broker": "ok"}


def _check_workers() -> dict[str, str]:
    return {
        f"worker_{queue}": "ok" if age is not None and age <= HEARTBEAT_FRESH else "failing"
        for queue, age in last_beats().items()
    }


CHECKS = {
    "database": _check_database,
    "redis": _check_redis,
    "broker": _check_broker,
    "workers": _check_workers,
}


def readiness() -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results.update(check())
        except Exception:
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = "failing"
    return results


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks = readiness()
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "failing", "checks": checks}, status=200 if ok else 503
    )
