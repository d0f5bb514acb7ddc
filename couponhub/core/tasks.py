from celery import shared_task

from couponhub.core import jobs


@shared_task(name="couponhub.core.tasks.mark_stalled_jobs_task")
def mark_stalled_jobs_task() -> int:
    return jobs.mark_stalled_jobs()
