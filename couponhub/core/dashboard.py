"""Home-page panels of the core: the operator's jobs and SMS balance, the administrator's
lock-outs and error counts."""

import datetime

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core import sms
from couponhub.core.models import Job, SmsMessage
from couponhub.core.panels import Panel, PanelData, Stat

SMS_LOW = 50  # messages left before the balance counts as running low


def _url(name: str, query: str = "") -> str:
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return ""


def _jobs(request) -> PanelData:
    since = timezone.now() - datetime.timedelta(days=1)
    running = Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
    failed = Job.objects.filter(status=Job.Status.FAILED, created_at__gte=since)
    account = sms.get_account()
    price = sms.sms_price()
    left = int(account.balance / price) if price else 0
    return PanelData(
        stats=[
            Stat(_("Jobs queued or running"), running.count()),
            Stat(_("Jobs failed in the last 24 hours"), failed.count(), warn=failed.exists()),
            Stat(_("SMS balance"), f"¥{account.balance:,.2f}", warn=left < SMS_LOW),
            Stat(_("SMS messages it still pays for"), left, warn=left < SMS_LOW),
        ],
        columns=[str(_("job")), str(_("status")), str(_("progress"))],
        rows=[
            [job.title, job.get_status_display(), f"{job.percent}%"]
            for job in running.order_by("-created_at")[:5]
        ],
        link=(_("Download centre"), _url("core:downloads")),
    )


def _admin(request) -> PanelData:
    now = timezone.now()
    since = now - datetime.timedelta(days=1)
    locked = (
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=now - get_cool_off(),
        )
        .values("username")
        .distinct()
        .count()
    )
    failed_jobs = Job.objects.filter(status=Job.Status.FAILED, created_at__gte=since).count()
    failed_sms = SmsMessage.objects.filter(
        created_at__gte=since, status__in=[SmsMessage.Status.FAILED, SmsMessage.Status.REFUSED]
    ).count()
    return PanelData(
        stats=[
            Stat(
                _("Users locked out now"),
                locked,
                url=_url("staff:users", "?status=locked"),
                warn=bool(locked),
            ),
            Stat(_("Jobs failed in the last 24 hours"), failed_jobs, warn=bool(failed_jobs)),
            Stat(_("SMS not sent in the last 24 hours"), failed_sms, warn=bool(failed_sms)),
        ],
        link=(_("Audit log"), _url("core:audit_log")),
    )


PANELS = [
    Panel("core.jobs", _("Jobs and SMS balance"), ("operator",), _jobs, 40),
    Panel("core.admin", _("Lock-outs and errors"), ("admin",), _admin, 80),
]
