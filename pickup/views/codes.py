"""Pickup code pages: the list, one code and its QR image, generation, batch modify/delete."""

import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from couponhub.core.errors import Refused
from couponhub.core.permissions import permission_required
from couponhub.core.views import paginate
from pickup import filters, forms, selectors, services, tables
from pickup.models import CodeBatch, PickupCode
from pickup.views.common import MANAGE, VIEW


@permission_required(VIEW)
def code_list(request):
    filterset = filters.PickupCodeFilter(request.GET, queryset=selectors.codes_for_list())
    table = paginate(request, tables.PickupCodeTable(selectors.filtered_codes(filterset)))
    return render(request, "pickup/code_list.html", {"filter": filterset, "table": table})


def _code_url(request, code: PickupCode) -> str:
    return request.build_absolute_uri(selectors.pickup_path(code.code))


@permission_required(VIEW)
def code_detail(request, pk: int):
    code = get_object_or_404(selectors.codes_for_list(), pk=pk)
    return render(
        request,
        "pickup/code_detail.html",
        {
            "code": code,
            "url": _code_url(request, code),
            "masked": selectors.mask_password(code.password),
        },
    )


@permission_required(VIEW)
def code_qr(request, pk: int, fmt: str):
    code = get_object_or_404(PickupCode, pk=pk)
    url = _code_url(request, code)
    buffer = io.BytesIO()
    if fmt == "svg":
        qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10).save(buffer)
        content_type = "image/svg+xml"
    else:
        qrcode.make(url, box_size=8, border=2).save(buffer, format="PNG")
        content_type = "image/png"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{code.code}.{fmt}"'
    return response


@permission_required(MANAGE)
def generate(request):
    form = forms.GenerateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        spec = services.GenerationSpec(
            quantity=d["quantity"],
            prefix=d["prefix"],
            code_length=d["code_length"],
            code_format=d["code_format"],
            password_length=d["password_length"],
            password_format=d["password_format"],
        )
        try:
            batch = services.create_code_batch(
                actor=request.user, card_type=d["card_type"], spec=spec
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Batch %(pk)s is being generated in the background.") % {"pk": batch.pk}
            )
            return redirect("core:job_detail", pk=batch.job_id)
    batches = CodeBatch.objects.select_related("card_type", "job")
    table = paginate(request, tables.CodeBatchTable(batches), per_page=10)
    return render(request, "pickup/generate.html", {"form": form, "table": table})


@permission_required(MANAGE)
def batch_action(request):
    """Choose codes by the four selectors → preview the count → apply one action."""
    selection_form = forms.SelectionForm(request.POST or request.GET or None)
    action_form = forms.BatchActionForm(request.POST or None)
    preview = None
    if selection_form.is_bound and selection_form.is_valid():
        selection = selectors.clean_selection(selection_form.cleaned_data)
        codes = selectors.select_codes(selection)
        preview = {
            "selection": selection,
            "description": selectors.describe_selection(selection),
            "total": codes.count() if selection else 0,
            "used": codes.filter(status=PickupCode.Status.USED).count() if selection else 0,
        }
        if (
            request.method == "POST"
            and request.POST.get("step") == "apply"
            and action_form.is_valid()
        ):
            try:
                counts = services.batch_modify_codes(
                    actor=request.user,
                    selection=selection,
                    action=action_form.cleaned_data["action"],
                    card_type=action_form.cleaned_data.get("new_card_type"),
                )
            except Refused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Done: %(matched)s selected, %(changed)s changed, "
                        "%(skipped_used)s used codes skipped."
                    )
                    % counts,
                )
                # back to the preview of the same selection: its fields only, never the token
                query = urlencode(
                    {name: request.POST.get(name, "") for name in selection_form.fields}
                )
                return redirect(f"{reverse('pickup:batch_action')}?{query}")
    return render(
        request,
        "pickup/batch_action.html",
        {"selection_form": selection_form, "action_form": action_form, "preview": preview},
    )
