import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from couponhub.core.permissions import has_perm
from couponhub.core.views import paginate
from reports import exports, facts, selectors, summaries
from reports.scope import require_reports
from reports.tables import UValueFactTable

PAGE_SIZE = 20


def _query(request) -> dict:
    return {k: v for k, v in request.GET.items() if k != "page" and v}


def _data_until():
    """The last day the facts hold (the watermark minus one day), or None before the first run."""
    mark = facts.watermark()
    return timezone.localdate(mark) - datetime.timedelta(days=1) if mark else None


@login_required
def u_value_detail(request):
    require_reports(request.user)
    filterset = selectors.u_value_filter(request.user, request.GET)
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    # exact to 10,000 rows, then 约 N 条 (the planner's estimate); deep pages by keyset
    table = paginate(request, UValueFactTable(rows, user=request.user), per_page=PAGE_SIZE)
    return render(
        request,
        "reports/u_value_detail.html",
        {
            "filter": filterset,
            "table": table,
            "can_export": has_perm(request.user, "reports.export"),
            "data_until": _data_until(),
        },
    )


@login_required
@require_POST
def export(request, report: str):
    require_reports(request.user)
    if report not in exports.REPORTS:
        raise Http404
    job = exports.start_report_export(actor=request.user, report=report, query=_query(request))
    return redirect("core:job_detail", pk=job.pk)


@login_required
def summary(request, name: str):
    require_reports(request.user)
    if name not in summaries.SUMMARIES:
        raise Http404
    title, build, _perm = summaries.SUMMARIES[name]
    context = build(request.user, request.GET)
    tabs = [
        (key, label)
        for key, (label, _build, needs) in summaries.SUMMARIES.items()
        if needs is None or has_perm(request.user, needs)
    ]
    return render(
        request,
        f"reports/summary_{name}.html",
        {
            **context,
            "name": name,
            "title": title,
            "tabs": tabs,
            "can_export": has_perm(request.user, "reports.export"),
            "data_until": _data_until(),
        },
    )
