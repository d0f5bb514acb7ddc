"""Beat sends its schedule from one process even when two are started."""

from datetime import timedelta

import pytest
from celery.schedules import schedule

from couponhub.celery import app as celery_app
from couponhub.core import beat


class RecordingScheduler(beat.LockedScheduler):
    """Records what it would send instead of publishing it."""

    def __init__(self, *args, **kwargs):
        self.sent = []
        super().__init__(*args, **kwargs)

    def apply_entry(self, entry, producer=None):
        self.sent.append(entry.name)


@pytest.fixture
def two_beats(tmp_path, settings):
    settings.VAR_DIR = tmp_path  # the file lock, when no Redis
    if settings.REDIS_URL:
        beat._RedisLock(settings.REDIS_URL)._client.delete(beat.LOCK_NAME)
    celery_app.conf.beat_schedule = {"every-second": {"task": "t", "schedule": schedule(1)}}
    made = [
        RecordingScheduler(app=celery_app, schedule_filename=str(tmp_path / f"s{i}"), lazy=False)
        for i in (1, 2)
    ]
    yield made
    celery_app.conf.beat_schedule = settings.CELERY_BEAT_SCHEDULE
    for scheduler in made:
        scheduler.close()


def _run(scheduler, entry):
    """One tick with `entry` due."""
    scheduler.schedule[entry].last_run_at = scheduler.app.now() - timedelta(seconds=5)
    scheduler._heap = None
    scheduler.tick()


def test_only_the_beat_holding_the_lock_sends_and_the_other_takes_over(two_beats):
    first, second = two_beats
    for _ in range(3):
        _run(first, "every-second")
        _run(second, "every-second")
    assert first.sent == ["every-second"] * 3 and second.sent == []
    # when the first beat stops, the second takes over
    first.close()
    _run(second, "every-second")
    assert second.sent == ["every-second"]
