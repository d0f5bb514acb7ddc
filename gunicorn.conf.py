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

# The worker model (#17): processes carry the load, threads only cover waits. Python runs one
# thread of a process at a time, so a request whose database answer has arrived waits for the
# GIL behind its process's other threads (up to the 5 ms switch interval each); with two threads
# a process rarely makes one wait, and the cores are shared among processes by the kernel, which
# runs a thread that just woke promptly. Two threads, not one, so that a process whose request
# waits on a row lock or a slow client still answers its other kept-alive connections. Twice as
# many processes as cores keeps the cores busy while some wait for PostgreSQL; each takes ~130 MB
# and two database connections. WEB_CONCURRENCY and WEB_THREADS change it for a host.
worker_class = "gthread"  # kept-alive connections (tills send call after call), a poller each
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("WEB_THREADS", "2"))
keepalive = 5


def child_exit(server, worker):
    """A gone process's live values leave /metrics (prometheus-client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
