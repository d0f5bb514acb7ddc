from celery import shared_task

from reports import facts


@shared_task(name="reports.tasks.build_nightly_facts_task")
def build_nightly_facts_task() -> int:
    """01:00 Asia/Shanghai (CELERY_BEAT_SCHEDULE): facts up to the end of yesterday."""
    return facts.build_facts().pk
