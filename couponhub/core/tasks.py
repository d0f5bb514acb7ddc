from celery import shared_task

from couponhub.core import jobs, sms  # noqa: F401  (sms holds deliver_sms_task)


@shared_task(name="couponhub.core.tasks.recover_orphaned_jobs_task")
def recover_orphaned_jobs_task() -> int:
    return len(jobs.recover_orphaned_jobs())
