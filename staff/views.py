from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.models import Org, RoleAssignment
from couponhub.core.permissions import get_scoped_or_404, permission_required
from couponhub.core.spreadsheets import write_xlsx
from couponhub.core.views import paginate
from staff import selectors, services
from staff.forms import (
    OrgAddForm,
    OrgEditForm,
    OrgMoveForm,
    RoleGrantForm,
    StaffImportForm,
    UserCreateForm,
    UserEditForm,
    UserSearchForm,
)
from staff.tables import UserTable

USERS = "core.manage_users"
ORGS = "core.manage_orgs"


def _refused(form, exc: Refused) -> None:
    form.add_error(None, exc.message)


# --- users ---------------------------------------------------------------------------------


@permission_required(USERS)
def user_list(request):
    search = UserSearchForm(request.GET or None)
    criteria = search.cleaned_data if search.is_valid() else {}
    users = selectors.user_list(
        request.user,
        query=criteria.get("q", ""),
        status=criteria.get("status", ""),
        role=criteria.get("role", ""),
    )
    return render(
        request,
        "staff/user_list.html",
        {"search": search, "table": paginate(request, UserTable(users))},
    )


@permission_required(USERS)
def user_create(request):
    form = UserCreateForm(request.POST or None, orgs=selectors.orgs_for_users(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.create_user(actor=request.user, **form.cleaned_data)
        except Refused as exc:
            _refused(form, exc)
        else:
            # shown once, in this answer only (never stored, never in a redirect's session)
            return render(
                request,
                "staff/temporary_password.html",
                {"staff_user": user, "password": password, "created": True},
            )
    return render(request, "staff/user_form.html", {"form": form})


def _detail(request, user, *, edit_form=None, role_form=None, status=200):
    return render(
        request,
        "staff/user_detail.html",
        {
            "staff_user": user,
            "assignments": selectors.assignments_of(user),
            "failed_logins": selectors.failed_logins(user),
            "edit_form": edit_form
            or UserEditForm(
                initial={"full_name": user.first_name, "phone": user.phone, "email": user.email}
            ),
            "role_form": role_form or RoleGrantForm(orgs=selectors.orgs_for_users(request.user)),
        },
        status=status,
    )


@permission_required(USERS)
def user_detail(request, pk: int):
    user = selectors.user_detail(request.user, pk)
    if request.method == "POST":
        form = UserEditForm(request.POST)
        if form.is_valid():
            try:
                services.update_user(actor=request.user, user=user, **form.cleaned_data)
            except Refused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("staff:user_detail", pk=user.pk)
        return _detail(request, user, edit_form=form, status=400)
    return _detail(request, user)


@permission_required(USERS)
@require_POST
def user_action(request, pk: int, action: str):
    user = selectors.user_detail(request.user, pk)
    try:
        if action == "deactivate":
            services.set_user_active(actor=request.user, user=user, active=False)
            messages.success(request, _("Account deactivated."))
        elif action == "activate":
            services.set_user_active(actor=request.user, user=user, active=True)
            messages.success(request, _("Account reactivated."))
        elif action == "unlock":
            services.unlock_user(actor=request.user, user=user)
            messages.success(request, _("Lock-out lifted; the user can log in again."))
        elif action == "password-link":
            link = services.make_password_link(
                actor=request.user, user=user, base_url=request.build_absolute_uri("/")
            )
            return render(
                request,
                "staff/password_link.html",
                {"staff_user": user, "link": link, "link_hours": settings.PASSWORD_LINK_HOURS},
            )
        elif action == "reset-password":
            password = services.reset_password(actor=request.user, user=user)
            return render(
                request,
                "staff/temporary_password.html",
                {"staff_user": user, "password": password, "created": False},
            )
        else:
            raise Http404
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("staff:user_detail", pk=user.pk)


@permission_required(USERS)
@require_POST
def role_grant(request, pk: int):
    user = selectors.user_detail(request.user, pk)
    form = RoleGrantForm(request.POST, orgs=selectors.orgs_for_users(request.user))
    if form.is_valid():
        try:
            services.grant_role(actor=request.user, user=user, **form.cleaned_data)
        except Refused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Role given."))
            return redirect("staff:user_detail", pk=user.pk)
    return _detail(request, user, role_form=form, status=400)


@permission_required(USERS)
@require_POST
def role_revoke(request, pk: int, assignment_pk: int):
    user = selectors.user_detail(request.user, pk)
    assignment = get_scoped_or_404(
        request.user,
        USERS,
        RoleAssignment.objects.filter(user=user).select_related("org", "user"),
        "org",
        pk=assignment_pk,
    )
    try:
        services.revoke_role(actor=request.user, assignment=assignment)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Role taken away."))
    return redirect("staff:user_detail", pk=user.pk)


@permission_required(USERS)
def user_import(request):
    form = StaffImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.import_staff(actor=request.user, upload=upload, filename=upload.name)
        except Refused as exc:
            _refused(form, exc)
    return render(request, "staff/user_import.html", {"form": form, "result": result})


@permission_required(USERS)
def import_template(request):
    response = HttpResponse(
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="staff-template.xlsx"'
    write_xlsx(
        response,
        headers=[_("username"), _("full name"), _("phone"), _("role"), _("org code")],
        rows=[["lina_pan", "潘丽娜", "13800000000", str(RoleAssignment.Role.CLERK.label), "380"]],
    )
    return response


# --- the one-time password link (no log-in: the link is the proof) -------------------------

LINK_SESSION_KEY = "staff_password_link"
# As Django's own reset view: the token moves from the address into the session at once, so the
# page where the password is typed never carries it (no Referer, no browser history of it).
LINK_PLACEHOLDER = "set-password"


def _link_invalid(request):
    return render(request, "staff/password_link_invalid.html", status=410)


def password_link(request, uidb64: str, token: str):
    if token != LINK_PLACEHOLDER:
        if services.user_for_password_link(uidb64, token) is None:
            return _link_invalid(request)
        request.session[LINK_SESSION_KEY] = token
        return redirect("staff:password_link", uidb64=uidb64, token=LINK_PLACEHOLDER)
    token = request.session.get(LINK_SESSION_KEY, "")
    user = services.user_for_password_link(uidb64, token)
    if user is None:
        return _link_invalid(request)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.use_password_link(
                uidb64=uidb64, token=token, new_password=form.cleaned_data["new_password1"]
            )
        except Refused:
            return _link_invalid(request)
        request.session.pop(LINK_SESSION_KEY, None)
        messages.success(request, _("Your new password is set. Log in with it."))
        return redirect("login")
    return render(request, "staff/password_link_form.html", {"form": form, "staff_user": user})


# --- the org tree ----------------------------------------------------------------------------


@permission_required(ORGS)
def org_tree(request):
    nodes = list(selectors.org_tree(request.user).select_related("parent"))
    top = min((n.path.count("/") for n in nodes), default=2)
    for node in nodes:
        node.depth = node.path.count("/") - top
        node.indent = "　" * node.depth
    return render(request, "staff/org_tree.html", {"nodes": nodes})


@permission_required(ORGS)
def org_add(request):
    parents = selectors.parent_choices(request.user)
    initial = {}
    if request.GET.get("parent", "").isdigit():
        initial["parent"] = request.GET["parent"]
    form = OrgAddForm(request.POST or None, parents=parents, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.add_org(actor=request.user, **form.cleaned_data)
        except Refused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("%(name)s added.") % {"name": org.name})
            return redirect("staff:org_tree")
    return render(request, "staff/org_form.html", {"form": form, "title": _("Add a node")})


def _org(request, pk: int) -> Org:
    return get_scoped_or_404(request.user, ORGS, Org.objects.select_related("parent"), "", pk=pk)


@permission_required(ORGS)
def org_edit(request, pk: int):
    org = _org(request, pk)
    form = OrgEditForm(
        request.POST or None,
        initial={"name": org.name, "address": org.address, "phone": org.phone},
    )
    if request.method == "POST" and form.is_valid():
        services.update_org(actor=request.user, org=org, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("staff:org_tree")
    return render(
        request,
        "staff/org_form.html",
        {"form": form, "org": org, "title": _("Edit %(name)s") % {"name": org.name}},
    )


@permission_required(ORGS)
def org_move(request, pk: int):
    org = _org(request, pk)
    parents = selectors.parent_choices(request.user).exclude(path__startswith=org.path)
    form = OrgMoveForm(request.POST or None, parents=parents)
    if request.method == "POST" and form.is_valid():
        try:
            services.move_org(actor=request.user, org=org, parent=form.cleaned_data["parent"])
        except Refused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("%(name)s moved.") % {"name": org.name})
            return redirect("staff:org_tree")
    return render(
        request,
        "staff/org_form.html",
        {"form": form, "org": org, "title": _("Move %(name)s") % {"name": org.name}},
    )


@permission_required(ORGS)
@require_POST
def org_open_close(request, pk: int, action: str):
    org = _org(request, pk)
    if action not in {"close", "reopen"}:
        raise Http404
    try:
        services.set_store_open(actor=request.user, org=org, open=action == "reopen")
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        done = _("%(name)s reopened.") if action == "reopen" else _("%(name)s closed.")
        messages.success(request, done % {"name": org.name})
    return redirect("staff:org_tree")
