"""Background jobs: a Job row tracks long work that a Celery worker does.

An app registers a runner for a kind in its own jobs.py:

    @job_runner("pickup.generate_codes")
    def generate_codes(job: Job) -> None: ...

A runner must be resumable: it derives what is left from the database, so a job whose worker
died can be re-run and still ends with exactly the requested result.

Which process runs a job is settled in PostgreSQL, not by the broker: the worker that claims a
job holds a session advisory lock on it while it runs (`_LOCK_SPACE`, the job's id). A message
delivered twice (acks_late redelivery, a rerun) finds the job taken and does nothing. A worker
that dies (SIGKILL, OOM, a lost machine) loses its connection and with it the lock, so the job is
RUNNING with nobody holding it: the next delivery takes it over, and `recover_orphaned_jobs`
(beat, every minute) queues such jobs again; the runner resumes from what the database holds.

A runner is registered for a queue: "bulk" (the default: generation, imports, exports, report
builds) or "interactive" (small jobs a person waits for, next to SMS and events), so a batch of
ten million codes never holds up a verification code (settings.CELERY_TASK_QUEUES).
"""

import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from celery import shared_task
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.models import Job

Runner = Callable[[Job], None]
_RUNNERS: dict[str, Runner] = {}
_QUEUES: dict[str, str] = {}
BULK, INTERACTIVE = "bulk", "interactive"
# First key of the two-key advisory lock a running job is held under (second: the job's id).
_LOCK_SPACE = 7301
# A job whose workers died this many times is failed rather than queued again.
MAX_ATTEMPTS = 5

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    pass


def job_runner(kind: str, *, queue: str = BULK):
    if queue not in (BULK, INTERACTIVE):
        raise ValueError(f"job queue must be {BULK!r} or {INTERACTIVE!r}, not {queue!r}")

    def register(func: Runner) -> Runner:
        _RUNNERS[kind] = func
        _QUEUES[kind] = queue
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


def queue_for(kind: str) -> str:
    return _QUEUES.get(kind, BULK)


def _enqueue(job: Job) -> None:
    queue = queue_for(job.kind)
    transaction.on_commit(lambda: run_job_task.apply_async((job.pk,), queue=queue))


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


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _try_lock(job_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_SPACE, job_id])
        return cursor.fetchone()[0]


def _unlock(job_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_SPACE, job_id])
    except Exception:  # the connection itself is gone: so is the lock
        logger.warning("job %s: could not unlock, its connection is gone", job_id, exc_info=True)


def _claim(job_id: int) -> Job | None:
    """Take the job if it is queued, or running with nobody holding it (its worker died)."""
    with transaction.atomic():
        job = (
            Job.objects.select_for_update()
            .filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
            .first()
        )
        if job is None or not _try_lock(job.pk):
            return None  # finished, cancelled, or being run by a live worker
        try:
            if job.status == Job.Status.RUNNING:
                logger.warning("job %s: its worker died, taking it over", job.pk)
            now = timezone.now()
            Job.objects.filter(pk=job.pk).update(
                status=Job.Status.RUNNING,
                started_at=now,
                heartbeat_at=now,
                attempts=F("attempts") + 1,
                worker=_worker_name(),
                error="",
            )
        except BaseException:
            _unlock(job.pk)  # a session lock outlives the transaction: give it back
            raise
    job.refresh_from_db()
    return job


def run_job(job_id: int) -> Job | None:
    """Run one job in this process (called by the Celery task)."""
    job = _claim(job_id)
    if job is None:
        return None
    started = time.monotonic()
    try:
        return _run_claimed(job)
    finally:
        _unlock(job.pk)
        logger.info(
            "job %s %s ended in %.1f s",
            job.pk,
            job.kind,
            time.monotonic() - started,
            extra={"job_id": job.pk, "job_kind": job.kind},
        )


def _run_claimed(job: Job) -> Job:
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
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), done=F("total")
    )
    job.refresh_from_db()
    return job


def _fail(job: Job, error: str) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
    )


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


def recover_orphaned_jobs() -> list[int]:
    """Queue again every running job whose worker died (nobody holds its lock: this session
    takes it for a moment); one that has died MAX_ATTEMPTS times is failed instead, so a job
    that kills its worker stops."""
    requeued = []
    with transaction.atomic():
        running = Job.objects.select_for_update(skip_locked=True).filter(status=Job.Status.RUNNING)
        for job in running.order_by("pk"):
            if not _try_lock(job.pk):
                continue  # a live worker runs it
            try:
                if job.attempts >= MAX_ATTEMPTS:
                    Job.objects.filter(pk=job.pk).update(
                        status=Job.Status.FAILED,
                        error="任务中断：执行任务的进程多次停止，请检查后重新运行",
                        finished_at=timezone.now(),
                    )
                    logger.warning("job %s: its worker died %s times, failed", job.pk, job.attempts)
                    continue
                Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
                logger.warning("job %s: its worker died, queued again", job.pk)
                _enqueue(job)
                requeued.append(job.pk)
            finally:
                _unlock(job.pk)
    return requeued
