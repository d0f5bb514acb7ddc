"""gunicorn reads this file from the folder it starts in (the image's /app, the checkout).

Its own lines (start, worker boot and exit, errors) go through settings.LOGGING like the app's:
one JSON object per line in production. It writes no access log: the app's `couponhub.request`
line is that, with the route instead of a path whose query string may hold a phone number.
"""

import copy
import gc
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

# The worker model (#17): processes take requests, one at a time each (sync workers), not kept-
# alive connections. With keep-alive (gthread) a connection stays with the process that accepted
# it, and a burst of clients lands on whichever process wakes first: 50 tills connecting at once
# were measured all 50 on one of four processes, whose one GIL then ran every request while the
# other processes idled, and a request whose database answer had arrived (a hot promo code's
# lock holder, about to COMMIT) waited behind that process's other threads. A sync worker calls
# accept() only when it is free, so each request goes to an idle process, and no thread of it
# waits for another. Two per core plus one keeps the cores busy while some wait for PostgreSQL
# (gunicorn's own advice); each takes ~130 MB and one database connection. The tills pay a TCP
# connection per call (keep-alive toward a TLS-terminating proxy, which buffers slow clients as
# sync workers want). WEB_CONCURRENCY changes the number of processes for a host.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1) + 1)))
threads = 1


def child_exit(server, worker):
    """A gone process's live values leave /metrics (prometheus-client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """The app is loaded: its modules, settings, URL patterns and templates live as long as the
    process, so they leave the collector's care (`gc.freeze`) and a full collection walks only
    what requests leave behind, instead of pausing a request for the whole heap."""
    gc.collect()
    gc.freeze()
