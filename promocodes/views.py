from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from couponhub.core.forms import id_from, ids_from
from couponhub.core.models import AuditEntry
from couponhub.core.permissions import get_scoped_or_404, has_perm, permission_required
from couponhub.core.views import paginate
from promocodes import selectors, services
from promocodes.filters import ApplicationFilter, ChannelFilter
from promocodes.forms import (
    ApplicationForm,
    BudgetForm,
    ChannelForm,
    DepartmentForm,
    FinanceLimitsForm,
    RejectForm,
    copy_initial,
)
from promocodes.models import Channel, FinanceLimits, PromoCodeApplication
from promocodes.tables import ApplicationTable, BudgetTable, ChannelTable

DisplayStatus = PromoCodeApplication.DisplayStatus


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _report(request, moved, refused, done_message: str) -> None:
    if moved:
        messages.success(request, done_message % {"n": len(moved)})
    for number, reason in refused.items():
        messages.error(request, f"{number}：{reason}")


# --- channels -----------------------------------------------------------------------------


@permission_required("promocodes.view")
def channel_list(request):
    can_manage = has_perm(request.user, "promocodes.manage_channels")
    form = ChannelForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.create_channel(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Channel created (initial)."))
                return redirect("promocodes:channels")
    filterset = ChannelFilter(request.GET, queryset=selectors.channels())
    table = paginate(request, ChannelTable(filterset.qs))
    return render(
        request,
        "promocodes/channel_list.html",
        {"filter": filterset, "table": table, "form": form, "can_manage": can_manage},
    )


@permission_required("promocodes.manage_channels")
@require_POST
def channel_status(request, pk: int, action: str):
    channel = get_object_or_404(Channel, pk=pk)
    if action not in Channel.TRANSITIONS:
        raise PermissionDenied
    try:
        services.change_channel_status(actor=request.user, channel=channel, action=action)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("promocodes:channels")


# --- departments, budgets, finance limits --------------------------------------------------


@permission_required("promocodes.view")
def budgets(request):
    can_edit = has_perm(request.user, "promocodes.budgets")
    department_form = DepartmentForm(request.POST if "add_department" in request.POST else None)
    budget_form = BudgetForm(request.POST if "set_budget" in request.POST else None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = department_form if "add_department" in request.POST else budget_form
        if form.is_valid():
            try:
                if form is department_form:
                    services.create_department(actor=request.user, **form.cleaned_data)
                else:
                    services.set_department_budget(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("promocodes:budgets")
    table = paginate(request, BudgetTable(selectors.budgets()))
    return render(
        request,
        "promocodes/budgets.html",
        {
            "table": table,
            "current": selectors.current_budgets(),
            "merchants": selectors.merchant_costs(),
            "department_form": department_form,
            "budget_form": budget_form,
            "can_edit": can_edit,
        },
    )


@permission_required("promocodes.finance_limits")
def finance_limits(request):
    limits = FinanceLimits.current()
    form = FinanceLimitsForm(request.POST or None, instance=limits)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_finance_limits(
                actor=request.user,
                **{k: form.cleaned_data[k] for k in services.FINANCE_LIMIT_FIELDS},
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Finance limits saved."))
            return redirect("promocodes:finance_limits")
    return render(request, "promocodes/finance_limits.html", {"form": form, "limits": limits})


# --- applications --------------------------------------------------------------------------


def _tabs(base_qs, current: str):
    counts = selectors.status_tab_counts(base_qs)
    tabs = [{"key": "", "label": _("All"), "count": counts["all"], "active": current == ""}]
    for status in DisplayStatus:
        tabs.append(
            {
                "key": status.value,
                "label": status.label,
                "count": counts[status.value],
                "active": current == status.value,
            }
        )
    return tabs


def _application_list(request, *, perm: str, template: str, default_status: str):
    status = request.GET.get("status", default_status)
    base = selectors.applications_for(request.user, perm)
    filterset = ApplicationFilter(request.GET, queryset=base)
    qs = filterset.qs
    if status in DisplayStatus.values:
        qs = qs.with_display_status(status)
    table = paginate(request, ApplicationTable(qs))
    return render(
        request,
        template,
        {
            "filter": filterset,
            "table": table,
            "tabs": _tabs(PromoCodeApplication.objects.filter(pk__in=base.values("pk")), status),
            "status": status,
            "reject_form": RejectForm(),
            "can_apply": has_perm(request.user, "promocodes.apply"),
            "can_approve": has_perm(request.user, "promocodes.approve"),
        },
    )


@permission_required("promocodes.view")
def application_list(request):
    if request.method == "POST":
        query = {k: v for k, v in request.GET.items() if k not in ("page", "sort") and v}
        uses = request.POST.get("export") == "uses"
        matching = selectors.uses_matching if uses else selectors.applications_matching
        job = services.start_list_export(
            actor=request.user, query=query, uses=uses, total=matching(request.user, query).count()
        )
        return redirect("core:job_detail", pk=job.pk)
    return _application_list(
        request,
        perm="promocodes.view",
        template="promocodes/application_list.html",
        default_status="",
    )


@permission_required("promocodes.approve")
def review_list(request):
    return _application_list(
        request,
        perm="promocodes.approve",
        template="promocodes/review_list.html",
        default_status=DisplayStatus.PENDING,
    )


def _selected(request, perm: str):
    ids = ids_from(request.POST.getlist("selection"))
    return list(selectors.applications_for(request.user, perm).filter(pk__in=ids).order_by("pk"))


@permission_required("promocodes.apply")
@require_POST
def submit_batch(request):
    applications = _selected(request, "promocodes.apply")
    if not applications:
        messages.error(request, _("Select at least one application."))
    else:
        moved, refused = services.submit_applications(actor=request.user, applications=applications)
        _report(request, moved, refused, _("%(n)s application(s) submitted for review."))
    return redirect(request.POST.get("next") or "promocodes:applications")


@permission_required("promocodes.approve")
@require_POST
def review_batch(request):
    applications = _selected(request, "promocodes.approve")
    decision = request.POST.get("decision")
    if not applications:
        messages.error(request, _("Select at least one application."))
    elif decision == "approve":
        moved, refused = services.approve_applications(
            actor=request.user, applications=applications
        )
        _report(request, moved, refused, _("%(n)s application(s) approved."))
    elif decision == "reject":
        try:
            moved, refused = services.reject_applications(
                actor=request.user,
                applications=applications,
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            _report(request, moved, refused, _("%(n)s application(s) rejected."))
    return redirect(request.POST.get("next") or "promocodes:review")


@permission_required("promocodes.apply")
def application_create(request):
    org = selectors.home_org(request.user, "promocodes.apply")
    copied_from = None
    initial = {"department": selectors.staff_department(request.user)}
    if id_from(request.GET.get("copy")) is not None:
        copied_from = get_scoped_or_404(
            request.user,
            "promocodes.view",
            PromoCodeApplication.objects.all(),
            "org",
            pk=int(request.GET["copy"]),
        )
        initial = copy_initial(copied_from)
    form = ApplicationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.apply_for_promo_codes(
                actor=request.user,
                org=org,
                data=form.service_data(),
                stores=list(form.cleaned_data["stores"]),
                copied_from=copied_from,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            for warning in result.warnings:
                messages.warning(request, warning)
            messages.success(
                request,
                _("Application %(no)s created with %(n)s code(s).")
                % {"no": result.application.number, "n": result.application.codes.count()},
            )
            return redirect("promocodes:detail", pk=result.application.pk)
    return render(
        request,
        "promocodes/application_form.html",
        {
            "form": form,
            "copied_from": copied_from,
            "channel_departments": _channel_departments(),
        },
    )


@permission_required("promocodes.apply")
def application_change(request, pk: int):
    application = _application(request, pk, "promocodes.apply")
    if application.status != PromoCodeApplication.Status.DRAFT:
        messages.error(request, _("Only an application in its initial state can be changed."))
        return redirect("promocodes:detail", pk=application.pk)
    form = ApplicationForm(request.POST or None, instance=application)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.change_draft_application(
                actor=request.user,
                application=application,
                data=form.service_data(),
                stores=list(form.cleaned_data["stores"]),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            for warning in result.warnings:
                messages.warning(request, warning)
            messages.success(
                request, _("Application %(no)s saved.") % {"no": result.application.number}
            )
            return redirect("promocodes:detail", pk=application.pk)
    return render(
        request,
        "promocodes/application_form.html",
        {"form": form, "changing": application, "channel_departments": _channel_departments()},
    )


def _channel_departments() -> dict[str, str]:
    return {
        str(c.pk): c.department.name
        for c in Channel.objects.filter(status=Channel.Status.ENABLED).select_related("department")
    }


def _application(request, pk: int, perm: str = "promocodes.view") -> PromoCodeApplication:
    return get_scoped_or_404(
        request.user, perm, selectors.applications_for(request.user, perm), "org", pk=pk
    )


@permission_required("promocodes.view")
def application_detail(request, pk: int):
    application = _application(request, pk)
    uses = selectors.uses_of(application)[:50]
    audit = AuditEntry.objects.filter(
        object_type="promocodes.promocodeapplication", object_id=str(application.pk)
    ).order_by("created_at", "id")
    return render(
        request,
        "promocodes/application_detail.html",
        {
            "application": application,
            "codes": application.codes.all()[:200],
            "uses": uses,
            "audit": audit,
            "stores": application.stores.all(),
            "reject_form": RejectForm(),
            "can_apply": has_perm(request.user, "promocodes.apply"),
            "can_approve": has_perm(request.user, "promocodes.approve"),
        },
    )


@permission_required("promocodes.apply")
@require_POST
def application_action(request, pk: int, action: str):
    application = _application(request, pk, "promocodes.apply")
    try:
        if action == "submit":
            moved, refused = services.submit_applications(
                actor=request.user, applications=[application]
            )
            _report(request, moved, refused, _("%(n)s application(s) submitted for review."))
        elif action == "invalidate":
            services.invalidate_application(actor=request.user, application=application)
            messages.success(request, _("The promo codes are now invalid."))
        elif action == "export":
            job = services.export_codes(actor=request.user, application=application)
            messages.success(request, _("Export started; the file appears in the download centre."))
            return redirect("core:job_detail", pk=job.pk)
        else:
            raise PermissionDenied
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("promocodes:detail", pk=application.pk)


@permission_required("promocodes.view")
def application_print(request, pk: int):
    application = _application(request, pk)
    if application.status not in {
        PromoCodeApplication.Status.APPROVED,
        PromoCodeApplication.Status.INVALIDATED,
    }:
        messages.error(request, _("Only approved promo codes can be promoted."))
        return redirect("promocodes:detail", pk=application.pk)
    return render(
        request,
        "promocodes/application_print.html",
        {
            "application": application,
            "codes": application.codes.all()[:1000],
            "stores": application.stores.all(),
        },
    )
