from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.permissions import has_perm, permission_required
from couponhub.core.spreadsheets import read_rows
from couponhub.core.views import paginate
from members import selectors, services
from members.filters import MemberFilter
from members.forms import MemberImportForm, TagApplyForm, TagForm, TagUploadForm
from members.tables import MemberImportTable, MemberTable, TagTable

TAGS = "members.manage_tags"


@permission_required("members.view")
def member_list(request):
    filterset = MemberFilter(request.GET, queryset=selectors.member_list())
    can_tag = has_perm(request.user, TAGS)
    table = MemberTable(filterset.qs, exclude=() if can_tag else ("selection",))
    paginate(request, table)
    return render(
        request,
        "members/member_list.html",
        {
            "filter": filterset,
            "table": table,
            "can_tag": can_tag,
            "apply_form": TagApplyForm(auto_id="apply-%s") if can_tag else None,
        },
    )


@permission_required("members.import")
def member_import(request):
    form = MemberImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        imp = services.start_member_import(actor=request.user, upload=form.cleaned_data["file"])
        messages.success(request, _("The import is queued; its result appears on the job page."))
        return redirect("core:job_detail", pk=imp.job_id)
    table = MemberImportTable(selectors.member_imports_for(request.user))
    paginate(request, table)
    return render(request, "members/member_import.html", {"form": form, "table": table})


# --- member tags -------------------------------------------------------------------------------


def _tag_done(request, change, remove: bool, tag) -> None:
    if remove:
        text = _("Tag “%(tag)s” taken off %(changed)s members.")
        rest = _("%(unchanged)s did not have it.")
    else:
        text = _("Tag “%(tag)s” put on %(changed)s members.")
        rest = _("%(unchanged)s already had it.")
    if change.unchanged:
        text = f"{text}{rest}"
    messages.success(
        request,
        text % {"tag": tag.name, "changed": change.changed, "unchanged": change.unchanged},
    )


@permission_required(TAGS)
def tag_list(request):
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = services.save_tag(actor=request.user, **form.cleaned_data)
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Tag “%(name)s” added.") % {"name": tag.name})
            return redirect("members:tags")
    table = paginate(request, TagTable(selectors.tag_list()))
    return render(request, "members/tag_list.html", {"form": form, "table": table})


@permission_required(TAGS)
def tag_detail(request, pk: int):
    tag = get_object_or_404(selectors.tag_list(), pk=pk)
    form = TagForm(request.POST or None, initial={"name": tag.name, "note": tag.note})
    upload = TagUploadForm(auto_id="upload-%s")
    if request.method == "POST" and form.is_valid():
        try:
            services.save_tag(actor=request.user, tag=tag, **form.cleaned_data)
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("members:tag_detail", pk=tag.pk)
    return render(
        request, "members/tag_detail.html", {"tag": tag, "form": form, "upload_form": upload}
    )


@permission_required(TAGS)
@require_POST
def tag_delete(request, pk: int):
    tag = get_object_or_404(selectors.member_tags(), pk=pk)
    count = services.delete_tag(actor=request.user, tag=tag)
    messages.success(
        request,
        _("Tag “%(name)s” deleted; %(n)s members had it.") % {"name": tag.name, "n": count},
    )
    return redirect("members:tags")


@permission_required(TAGS)
@require_POST
def tag_upload(request, pk: int):
    """Put the tag on (or take it off) the members of an uploaded list of phones, cards or IDs."""
    tag = get_object_or_404(selectors.member_tags(), pk=pk)
    form = TagUploadForm(request.POST, request.FILES, auto_id="upload-%s")
    if form.is_valid():
        upload = form.cleaned_data["file"]
        remove = form.cleaned_data["op"] == "remove"
        try:
            ids, errors = selectors.members_from_rows(
                read_rows(upload, filename=upload.name, max_rows=selectors.MAX_LIST_ROWS + 1)
            )
            if errors:
                raise Refused(
                    "bad_rows",
                    _("The list has rows that are no member: %(rows)s")
                    % {"rows": "、".join(_("row %(row)s “%(value)s”") % e for e in errors[:5])},
                )
            change = services.tag_members(
                actor=request.user, tag=tag, member_ids=ids, remove=remove, source=upload.name
            )
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            _tag_done(request, change, remove, tag)
            return redirect("members:tag_detail", pk=tag.pk)
    tag = get_object_or_404(selectors.tag_list(), pk=pk)
    return render(
        request,
        "members/tag_detail.html",
        {
            "tag": tag,
            "form": TagForm(initial={"name": tag.name, "note": tag.note}),
            "upload_form": form,
        },
        status=400,
    )


def _back_to_list(request):
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("members:list")


@permission_required(TAGS)
@require_POST
def tag_apply(request):
    """The member list's selection: the ticked members get the chosen tag, or lose it."""
    form = TagApplyForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{errors[0]}" if label else errors[0])
        return _back_to_list(request)
    tag, remove = form.cleaned_data["tag"], form.cleaned_data["op"] == "remove"
    ids = selectors.member_list().filter(pk__in=form.cleaned_data["selection"])
    try:
        change = services.tag_members(
            actor=request.user,
            tag=tag,
            member_ids=ids.values_list("pk", flat=True),
            remove=remove,
            source=_("member list selection"),
        )
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        _tag_done(request, change, remove, tag)
    return _back_to_list(request)
