from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.models import Org
from couponhub.core.permissions import permission_required, scoped
from couponhub.core.sms import get_account
from couponhub.core.spreadsheets import read_rows
from members.selectors import members_from_rows
from messaging import selectors, services
from messaging.forms import MessageForm
from messaging.models import MemberMessage

PERM = "members.message"
Selection = MemberMessage.Selection


def _stores(user):
    return scoped(user, PERM, Org.objects.filter(is_active=True), "").order_by("path")


def _selection(data) -> tuple[dict, str]:
    kind = data["selection"]
    if kind == Selection.RULE:
        return {"rule_id": data["rule"].pk}, f"{Selection.RULE.label}：{data['rule'].name}"
    if kind == Selection.LEVEL:
        return {"level": data["level"]}, f"{Selection.LEVEL.label}：{data['level']}"
    if kind == Selection.TAG:
        return {"tag_id": data["tag"].pk}, f"{Selection.TAG.label}：{data['tag'].name}"
    if kind == Selection.STORE:
        return {"store_id": data["store"].pk}, f"{Selection.STORE.label}：{data['store'].name}"
    upload = data["file"]
    member_ids, errors = members_from_rows(read_rows(upload, filename=upload.name))
    if errors:
        raise Refused(
            "bad_rows",
            _("The list has rows that are no member: %(rows)s")
            % {"rows": "、".join(_("row %(row)s “%(value)s”") % e for e in errors[:5])},
        )
    return {"member_ids": member_ids}, f"{Selection.UPLOAD.label}：{upload.name}"


@permission_required(PERM)
def message_list(request):
    form = MessageForm(request.POST or None, request.FILES or None, stores=_stores(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            params, label = _selection(form.cleaned_data)
            message = services.draft_message(
                actor=request.user,
                text=form.cleaned_data["text"],
                marketing=form.cleaned_data["marketing"],
                selection=form.cleaned_data["selection"],
                selection_label=label,
                params=params,
            )
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("messaging:detail", pk=message.pk)
    return render(
        request,
        "messaging/message_list.html",
        {"form": form, "messages_sent": selectors.messages_for(request.user)[:50]},
    )


def _message(request, pk):
    return get_object_or_404(selectors.messages_for(request.user), pk=pk)


@permission_required(PERM)
def message_detail(request, pk: int):
    message = _message(request, pk)
    figures = (
        selectors.estimate(message.selection, message.params)
        if message.status == MemberMessage.Status.DRAFT
        else None
    )
    return render(
        request,
        "messaging/message_detail.html",
        {"message": message, "figures": figures, "balance": get_account().balance},
    )


@permission_required(PERM)
@require_POST
def message_send(request, pk: int):
    message = _message(request, pk)
    try:
        message = services.send_message(actor=request.user, message=message)
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect("messaging:detail", pk=message.pk)
    return redirect("core:job_detail", pk=message.job_id)
