"""A real Celery worker process runs a job end to end: Redis in CI, the filesystem broker
(what `make run` uses) without REDIS_URL."""

import time
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import load_workbook

from couponhub.core.audit import record_audit
from couponhub.core.exports import start_audit_export
from couponhub.core.models import Job
from tests.factories import OrgFactory, Role, user_with_role


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_an_export_job_to_its_file(worker):
    admin = user_with_role(Role.ADMIN, OrgFactory())
    for i in range(25):
        record_audit(actor=admin, action="coupons.void", object_id=str(i))

    job = start_audit_export(actor=admin, query={"action": "coupons.void"})

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
