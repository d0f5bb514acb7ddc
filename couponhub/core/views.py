from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from couponhub.core import exports, global_search, jobs, selectors, services, sms
from couponhub.core.errors import Refused
from couponhub.core.filters import AuditEntryFilter, SmsMessageFilter
from couponhub.core.forms import SmsTopUpForm
from couponhub.core.models import Job, RoleAssignment
from couponhub.core.pagination import ListPaginator
from couponhub.core.panels import panels_for
from couponhub.core.permissions import (
    COUNTER_STORES_PERM,
    permission_required,
    roles_of,
    stores_for,
)
from couponhub.core.stores import SESSION_KEY, current_store
from couponhub.core.tables import AuditEntryTable, JobTable, SmsMessageTable

PAGE_SIZE = 20


def favicon(request):
    """Browsers ask for /favicon.ico before reading the page's <link rel="icon">."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def public_media(request, path: str):
    """A file of the public storage (the pickup logo): anyone may see it, it changes name when
    it changes, so browsers keep it a day."""
    storage = storages["public"]
    try:
        if not storage.exists(path):
            raise Http404
        response = FileResponse(storage.open(path, "rb"))
    except SuspiciousFileOperation as exc:
        raise Http404 from exc
    response["Cache-Control"] = "public, max-age=86400"
    return response


def paginate(request, table, per_page: int = PAGE_SIZE):
    """Sort and page a list's table: an honest total and keyset pages (core.pagination)."""
    RequestConfig(
        request,
        paginate={"per_page": per_page, "paginator_class": ListPaginator, "request": request},
    ).configure(table)
    return table


@login_required
def home(request):
    """A dashboard of the panels of the user's roles (couponhub.core.panels)."""
    roles = roles_of(request.user)
    return render(
        request,
        "core/home.html",
        {
            "roles": roles,
            "role_labels": [RoleAssignment.Role(r).label for r in sorted(roles)],
            "store": current_store(request),
            "panels": panels_for(request),
        },
    )


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.change_own_password(
            user=request.user, new_password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password has been changed."))
        return redirect("home")
    return render(
        request,
        "core/password_change.html",
        {"form": form, "required": request.user.must_change_password},
    )


@login_required
def search(request):
    """The header's search box: one hit opens at once, several are listed, none says so."""
    text = request.GET.get("q", "")
    hits = global_search.search(request.user, text)
    if len(hits) == 1 and hits[0].url:
        return redirect(hits[0].url)
    return render(
        request,
        "core/search.html",
        {
            "q": text,
            "hits": hits,
            "valid": bool(global_search.QUERY_RE.match(global_search.normalise(text))),
        },
    )


@login_required
@require_POST
def switch_store(request):
    store = get_object_or_404(
        stores_for(request.user, COUNTER_STORES_PERM), pk=request.POST.get("store")
    )
    request.session[SESSION_KEY] = store.pk
    next_url = request.POST.get("next") or "/"
    return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "/")


@permission_required("core.view_audit")
def audit_log(request):
    if request.method == "POST":
        query = {k: v for k, v in request.GET.items() if k != "page" and v}
        job = exports.start_audit_export(actor=request.user, query=query)
        return redirect("core:job_detail", pk=job.pk)
    filterset = AuditEntryFilter(request.GET, queryset=selectors.audit_entries())
    table = paginate(request, AuditEntryTable(filterset.qs))
    return render(request, "core/audit_log.html", {"filter": filterset, "table": table})


def _own_job(request, pk: int) -> Job:
    # Jobs belong to whoever started them; anybody else's job is simply not there.
    return get_object_or_404(selectors.jobs_for_owner(request.user), pk=pk)


@login_required
def downloads(request):
    table = paginate(request, JobTable(selectors.jobs_for_owner(request.user)))
    return render(request, "core/downloads.html", {"table": table})


@login_required
def job_detail(request, pk: int):
    return render(request, "core/job_detail.html", {"job": _own_job(request, pk)})


@login_required
def job_status(request, pk: int):
    job = _own_job(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_display": job.get_status_display(),
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "finished": job.is_finished,
            "error": job.error,
            "download_url": (
                reverse("core:job_download", args=[job.pk]) if job.result_file else None
            ),
        }
    )


@login_required
def job_download(request, pk: int):
    job = _own_job(request, pk)
    if not job.result_file:
        raise Http404
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=job.result_file.name.rsplit("/", 1)[-1],
    )


@login_required
@require_POST
def job_rerun(request, pk: int):
    job = _own_job(request, pk)
    try:
        jobs.rerun_job(job=job, actor=request.user)
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect("core:job_detail", pk=job.pk)


@login_required
@require_POST
def job_cancel(request, pk: int):
    job = _own_job(request, pk)
    try:
        jobs.cancel_job(job=job, actor=request.user)
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect("core:job_detail", pk=job.pk)


@permission_required("core.manage_sms")
def sms_account(request):
    form = SmsTopUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sms.top_up_sms_account(
            actor=request.user, amount=form.cleaned_data["amount"], note=form.cleaned_data["note"]
        )
        messages.success(request, _("Top-up recorded."))
        return redirect("core:sms_account")
    account = sms.get_account()
    filterset = SmsMessageFilter(request.GET, queryset=selectors.sms_messages())
    return render(
        request,
        "core/sms_account.html",
        {
            "account": account,
            "price": sms.sms_price(),
            "form": form,
            "filter": filterset,
            "top_ups": account.top_ups.select_related("actor")[:20],
            "table": paginate(request, SmsMessageTable(filterset.qs)),
        },
    )
