from celery import shared_task

from couponhub.core import jobs, sms  # noqa: F401  (sms holds deliver_sms_task)


@shared_task(name="couponhub.core.tasks.recover_orphaned_jobs_task")
def recover_orphaned_jobs_task() -> int:
    return len(jobs.recover_orphaned_jobs())


# The name beat used before recover_orphaned_jobs_task: a message queued by an older beat is
# still understood after an upgrade.
@shared_task(name="couponhub.core.tasks.mark_stalled_jobs_task")
def mark_stalled_jobs_task() -> int:
    return len(jobs.recover_orphaned_jobs())
