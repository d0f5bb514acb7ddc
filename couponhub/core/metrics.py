"""What a process counts as it works, for Prometheus (prometheus-client).

Counted in the process: HTTP requests by route, method and status with their latency
(`couponhub.core.middleware.RequestContextMiddleware`), refusals by code (the API's one Refused
handler and the job runner call `count_refusal`). Under gunicorn or a prefork worker, set
PROMETHEUS_MULTIPROC_DIR to an empty folder shared by the processes of one host (docker-compose
does): prometheus-client then keeps each process's values in files there and `render` adds them
up (its multiprocess mode). Without it, each process counts for itself (`make run`, tests).

What the database or Redis knows — redemptions, returns, promo uses, SMS by status and the SMS
balance, jobs by kind and state with their durations, queue lengths, login lock-outs — is read
when Prometheus scrapes, by the collectors registered with `register_collector` (the core's
below; the project's `couponhub.metrics` registers the apps' ones), so those figures are the
same whichever process answers.

/metrics answers a client from METRICS_ALLOWED_NETWORKS, or one sending
`Authorization: Bearer <METRICS_TOKEN>`; anyone else gets 403.
"""

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, F, Max, Sum
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import (
    REGISTRY,
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from couponhub.core.health import QUEUES, queue_lengths
from couponhub.core.models import Job, SmsAccount, SmsMessage

logger = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "couponhub_http_requests_total",
    "HTTP requests answered, by route pattern, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "couponhub_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern and method",
    ["route", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REFUSALS = Counter(
    "couponhub_refusals_total", "Business refusals (Refused) by code and where", ["code", "where"]
)


def count_request(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_LATENCY.labels(route, method).observe(seconds)


def count_refusal(code: str, where: str) -> None:
    REFUSALS.labels(code, where).inc()


_COLLECTORS: list[Callable[[], Iterable[Metric]]] = []


def register_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add a function that yields metric families read at scrape time."""
    if collect not in _COLLECTORS:
        _COLLECTORS.append(collect)


class _ScrapeTimeCollector(Collector):
    def collect(self):
        for collect in _COLLECTORS:
            try:
                yield from collect()
            except Exception:  # one broken reader must not hide the others
                logger.warning("metrics collector %s failed", collect.__name__, exc_info=True)


_SCRAPE_TIME = _ScrapeTimeCollector()
_MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if not _MULTIPROCESS:
    REGISTRY.register(_SCRAPE_TIME)


def render() -> bytes:
    if not _MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_SCRAPE_TIME)
    return generate_latest(registry)


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False)
        for net in settings.METRICS_ALLOWED_NETWORKS
    )


@never_cache
@require_GET
def metrics_view(request):
    if not allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)


# -- what the core's tables and the broker know, read at scrape time ------------------------


def _core_collector():
    jobs = GaugeMetricFamily(
        "couponhub_jobs", "Background jobs by kind and state", labels=["kind", "state"]
    )
    for row in Job.objects.values("kind", "status").annotate(n=Count("id")).order_by():
        jobs.add_metric([row["kind"], row["status"]], row["n"])
    yield jobs

    durations = SummaryMetricFamily(
        "couponhub_job_duration_seconds",
        "Start to finish of the jobs that succeeded, by kind",
        labels=["kind"],
    )
    finished = (
        Job.objects.filter(status=Job.Status.SUCCEEDED, started_at__isnull=False)
        .values("kind")
        .annotate(n=Count("id"), seconds=Sum(F("finished_at") - F("started_at")))
        .order_by()
    )
    for row in finished:
        durations.add_metric([row["kind"]], row["n"], row["seconds"].total_seconds())
    yield durations

    running = GaugeMetricFamily(
        "couponhub_job_running_seconds_max",
        "Age of the oldest running job, by kind",
        labels=["kind"],
    )
    now = timezone.now()
    oldest = (
        Job.objects.filter(status=Job.Status.RUNNING)
        .values("kind")
        .annotate(first=Max(now - F("started_at")))
        .order_by()
    )
    for row in oldest:
        running.add_metric([row["kind"]], row["first"].total_seconds())
    yield running

    sms = CounterMetricFamily(
        "couponhub_sms_messages",
        "SMS messages by state (sent, refused, failed, pending)",
        labels=["status"],
    )
    for row in SmsMessage.objects.values("status").annotate(n=Count("id")).order_by():
        sms.add_metric([row["status"]], row["n"])
    yield sms

    balance = GaugeMetricFamily(
        "couponhub_sms_balance_yuan", "SMS account balance", labels=["account"]
    )
    for name, value in SmsAccount.objects.values_list("name", "balance"):
        balance.add_metric([name], float(value))
    yield balance

    lengths = GaugeMetricFamily(
        "couponhub_queue_length", "Tasks waiting in a Celery queue", labels=["queue"]
    )
    for queue, n in zip(QUEUES, queue_lengths(), strict=True):
        if n is not None:
            lengths.add_metric([queue], n)
    yield lengths

    cooloff = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    locked = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=cooloff
    ).count()
    yield GaugeMetricFamily(
        "couponhub_login_lockouts", "Log-in names and addresses locked out now", value=locked
    )


register_collector(_core_collector)
