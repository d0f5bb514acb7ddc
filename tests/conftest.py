import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection

from couponhub.celery import app as celery_app
from couponhub.local_postgres import database_url


def pytest_configure(config):
    # Tasks run in-process unless a test starts a real worker (tests/core/test_celery_worker.py).
    celery_app.conf.task_always_eager = True
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A shared Redis outlives test runs: keep each run's cache keys (e.g. API nonces) apart.
    django_settings.CACHES["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.SMS_BACKEND = "couponhub.core.sms_backends.MemoryBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    from couponhub.core.sms_backends import MemoryBackend

    MemoryBackend.outbox.clear()


@pytest.fixture
def sms_outbox():
    from couponhub.core.sms_backends import MemoryBackend

    return MemoryBackend.outbox


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "")


def start_worker(log_path, *, queues=("interactive", "bulk"), name="w", pool="solo", env=None):
    """A real Celery worker process on the test database, consuming `queues`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        **(env or {}),
    }
    log = open(log_path, "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "couponhub",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            ",".join(queues),
            "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log = log
    return proc


def stop_worker(proc) -> str:
    """Stop the worker (SIGTERM, then SIGKILL) and return the tail of its log."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.log.seek(0)
    text = proc.log.read()
    proc.log.close()
    return text


@pytest.fixture
def worker(tmp_path):
    """A real Celery worker process on the test database, consuming both queues (interactive and
    bulk; use with transaction=True)."""
    proc = start_worker(tmp_path / "worker.log")
    celery_app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager = True
        print(stop_worker(proc)[-3000:])
