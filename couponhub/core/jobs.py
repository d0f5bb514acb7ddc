"""Background jobs: a Job row tracks long work that a Celery worker does.

An app registers a runner for a kind in its own jobs.py:

    @job_runner("pickup.generate_codes")
    def generate_codes(job: Job) -> None: ...

A runner must be resumable: it derives what is left from the database, so a job whose worker
died can be re-run and still ends with exactly the requested result.
"""

import logging
import os
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.events import record_event
from couponhub.core.models import Job

Runner = Callable[[Job], None]
_RUNNERS: dict[str, Runner] = {}
STALL_AFTER = timedelta(minutes=10)

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    pass


def job_runner(kind: str):
    def register(func: Runner) -> Runner:
        _RUNNERS[kind] = func
        return func

    return register


def runner_for(kind: str) -> Runner:
    try:
        return _RUNNERS[kind]
    except KeyError as exc:
        raise LookupError(f"no job runner registered for {kind!r}") from exc


# The job machinery's own task lives here, not in tasks.py: enqueueing needs it and it needs
# run_job, and one module keeps that a loop inside a file rather than between two modules. Its
# name stays the one queued messages already carry.
@shared_task(name="couponhub.core.tasks.run_job_task")
def run_job_task(job_id: int) -> None:
    run_job(job_id)


def _enqueue(job: Job) -> None:
    transaction.on_commit(lambda: run_job_task.delay(job.pk))


def enqueue_job(*, kind: str, title: str, owner, params: dict | None = None, total: int = 0) -> Job:
    """Create a queued job; the worker picks it up once the surrounding transaction commits."""
    runner_for(kind)
    job = Job.objects.create(kind=kind, title=title, owner=owner, params=params or {}, total=total)
    _enqueue(job)
    return job


def set_progress(job: Job, done: int, total: int | None = None) -> None:
    """Record progress; stop the runner if someone cancelled the job meanwhile."""
    fields = {"done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        fields["total"] = total
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields)
    job.done = done
    if total is not None:
        job.total = total
    if not updated:
        raise JobCancelled


def raise_if_cancelled(job: Job) -> None:
    """Stop the runner if someone cancelled the job meanwhile, with a plain read: for a runner
    inside one long transaction, where writing progress would lock the job's row until it ends
    (and a cancel would wait for it)."""
    if Job.objects.filter(pk=job.pk, status=Job.Status.CANCELLED).exists():
        raise JobCancelled


def attach_result_file(job: Job, filename: str, write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary file, then store it as the job's result."""
    fd, tmp = tempfile.mkstemp(suffix=Path(filename).suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as fh:
            job.result_file.save(filename, File(fh), save=False)
        Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    finally:
        os.unlink(tmp)


def run_job(job_id: int) -> Job | None:
    """Run one job in this process (called by the Celery task)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        error="",
    )
    if not claimed:
        return None  # already done, cancelled, or taken by another worker
    job = Job.objects.get(pk=job_id)
    try:
        runner_for(job.kind)(job)
    except JobCancelled:
        return job
    except Refused as exc:  # the job's input was refused: the owner reads why; not a bug
        logger.info("job %s refused: %s", job.pk, exc.code)
        _fail(job, exc.message)
        return job
    except Exception:
        _fail(job, _("The job stopped on an internal error; it has been logged for the admin."))
        raise
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.SUCCEEDED, finished_at=timezone.now(), done=F("total")
        ):
            _record_finished(job, Job.Status.SUCCEEDED)
    job.refresh_from_db()
    return job


def _record_finished(job: Job, status: str) -> None:
    record_event(
        "job.finished",
        {"job_id": job.pk, "kind": job.kind, "title": job.title, "status": status},
    )


def _fail(job: Job, error: str) -> None:
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        _record_finished(job, Job.Status.FAILED)


def rerun_job(*, job: Job, actor) -> Job:
    """Queue a failed or cancelled job again; its runner resumes from what is already stored."""
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job.pk, status__in=[Job.Status.FAILED, Job.Status.CANCELLED]
        ).update(status=Job.Status.QUEUED, error="", finished_at=None)
        if not updated:
            raise Refused(
                "job_not_rerunnable", f"任务“{job.title}”未失败也未取消，不能重新运行", 409
            )
        record_audit(actor=actor, action="job.rerun", obj=job)
        _enqueue(job)
    job.refresh_from_db()
    return job


def cancel_job(*, job: Job, actor) -> Job:
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job.pk, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
        if not updated:
            raise Refused("job_finished", f"任务“{job.title}”已结束，无法取消", 409)
        record_audit(actor=actor, action="job.cancel", obj=job)
    job.refresh_from_db()
    return job


def mark_stalled_jobs(now=None) -> int:
    """A running job whose worker stopped beating is failed, so it can be re-run."""
    now = now or timezone.now()
    return Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=now - STALL_AFTER).update(
        status=Job.Status.FAILED,
        error="任务中断：执行任务的进程已停止，可重新运行继续完成",
        finished_at=now,
    )
