"""A real Celery worker process runs a job end to end: Redis in CI, the filesystem broker
(what `make run` uses) without REDIS_URL."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from openpyxl import load_workbook

from couponhub.celery import app as celery_app
from couponhub.core.audit import record_audit
from couponhub.core.exports import start_audit_export
from couponhub.core.models import Job
from tests.factories import OrgFactory, Role, user_with_role


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    env = {**os.environ, "DATABASE_URL": _database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "couponhub",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager = True
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        print(log.read()[-3000:])
        log.close()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_an_export_job_to_its_file(worker):
    admin = user_with_role(Role.ADMIN, OrgFactory())
    for i in range(25):
        record_audit(actor=admin, action="demo.tick", object_id=str(i))

    job = start_audit_export(actor=admin, query={"action": "demo.tick"})

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        assert worker.poll() is None, "the worker process died"
        time.sleep(0.3)
    assert job.status == Job.Status.SUCCEEDED, (job.status, job.error)
    assert job.attempts == 1 and (job.done, job.total) == (25, 25)
    rows = list(load_workbook(Path(settings.MEDIA_ROOT) / job.result_file.name).active.values)
    assert len(rows) == 26
    assert sorted(int(r[4]) for r in rows[1:]) == list(range(25))
