"""gunicorn reads this file from the folder it starts in (the image's /app, the checkout).

Its own lines (start, worker boot and exit, errors) go through settings.LOGGING like the app's:
one JSON object per line in production. It writes no access log: the app's `couponhub.request`
line is that, with the route instead of a path whose query string may hold a phone number.
"""

import copy
import os

from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "couponhub.settings")

logconfig_dict = copy.deepcopy(settings.LOGGING)
# gunicorn's loggers get the app's handler instead of their own
logconfig_dict["loggers"]["gunicorn.error"] = {
    "level": "INFO",
    "handlers": ["console"],
    "propagate": False,
}
accesslog = None

# The worker model: processes carry the load, not threads (#17). See the comment in the README
# of docs/operations.md ("Web processes"). WEB_CONCURRENCY and WEB_THREADS change it per host.
worker_class = "gthread"  # keep-alive connections from the tills, a poller per process
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("WEB_THREADS", "2"))
keepalive = 5


def child_exit(server, worker):
    """A gone process's live values leave /metrics (prometheus-client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
