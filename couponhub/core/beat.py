"""Celery beat that runs its schedule in one process only, however many are started.

`LockedScheduler` (settings.CELERY_BEAT_SCHEDULER) sends due tasks only while it holds a lock: a
Redis lock with a TTL (redis-py's `Lock`, renewed every tick) when REDIS_URL is set, else an
exclusive `flock` on var/celerybeat.lock (the filesystem broker of `make run`, one machine). A
second beat waits, ticking every few seconds; when the first dies its lock expires (Redis, within
LOCK_TTL) or is released by the kernel (flock) and the second takes over. While it waits it keeps
its entries' last run at "now", so taking over does not fire a burst of runs it believes missed;
the price is that a run due during the hand-over (at most LOCK_TTL) is skipped.
"""

import fcntl
import logging
from pathlib import Path

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_TTL = 30  # seconds; the holder renews it at least every LOCK_TTL / 3
LOCK_NAME = "couponhub:beat-lock"


class _RedisLock:
    def __init__(self, url: str):
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._lock = self._client.lock(LOCK_NAME, timeout=LOCK_TTL, thread_local=False)

    def hold(self) -> bool:
        """Take the lock, or renew it if it is ours; False while another beat holds it."""
        if self._lock.owned():
            self._lock.reacquire()
            return True
        return self._lock.acquire(blocking=False)

    def release(self) -> None:
        try:
            if self._lock.owned():
                self._lock.release()
        finally:
            self._client.close()


class _FileLock:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a")  # noqa: SIM115  (held for the life of the process)
        self._held = False

    def hold(self) -> bool:
        if not self._held:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._held = True
            except BlockingIOError:
                return False
        return True

    def release(self) -> None:
        self._file.close()  # closing the file releases the flock
        self._held = False


def make_lock():
    if settings.REDIS_URL:
        return _RedisLock(settings.REDIS_URL)
    return _FileLock(Path(settings.VAR_DIR) / "celerybeat.lock")


class LockedScheduler(PersistentScheduler):
    def __init__(self, *args, **kwargs):
        self._beat_lock = make_lock()
        self._holding = False
        super().__init__(*args, **kwargs)
        self.max_interval = min(self.max_interval, LOCK_TTL / 3)

    def tick(self, *args, **kwargs):
        try:
            holding = self._beat_lock.hold()
        except Exception:
            logger.warning("beat lock unavailable; not sending", exc_info=True)
            holding = False
        if holding != self._holding:
            self._holding = holding
            logger.info("beat %s the schedule", "runs" if holding else "stands by; another runs")
        if not holding:
            now = self.app.now()
            for entry in self.schedule.values():
                entry.last_run_at = now
            self._heap = None
            return self.max_interval
        return super().tick(*args, **kwargs)

    def close(self):
        try:
            super().close()
        finally:
            self._beat_lock.release()
