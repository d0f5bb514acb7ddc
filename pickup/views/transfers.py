"""Import and export of pickup codes: the forms that start the jobs and their records."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from couponhub.core.errors import Refused
from couponhub.core.permissions import permission_required
from couponhub.core.views import paginate
from pickup import forms, selectors, services, tables
from pickup.models import ImportRecord
from pickup.views.common import MANAGE


@permission_required(MANAGE)
def import_codes(request):
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        record = services.start_code_import(
            actor=request.user,
            card_type=form.cleaned_data["card_type"],
            upload=form.cleaned_data["file"],
        )
        messages.success(request, _("The file was received and is being imported."))
        return redirect("core:job_detail", pk=record.job_id)
    table = paginate(
        request,
        tables.ImportRecordTable(selectors.import_records()),
    )
    return render(request, "pickup/import.html", {"form": form, "table": table})


@permission_required(MANAGE)
def import_file(request, pk: int, which: str):
    record = get_object_or_404(ImportRecord, pk=pk)
    f = record.original_file if which == "original" else record.error_file
    if not f:
        raise Http404
    name = record.original_name if which == "original" else f"导入{record.pk}-错误明细.csv"
    return FileResponse(f.open("rb"), as_attachment=True, filename=name)


@permission_required(MANAGE)
def export_codes(request):
    form = forms.ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        selection = selectors.clean_selection(form.cleaned_data)
        try:
            record = services.start_code_export(
                actor=request.user,
                selection=selection,
                columns=form.cleaned_data["columns"],
                file_format=form.cleaned_data["file_format"],
                base_url=request.build_absolute_uri("/"),
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("The export is running; the file will be in the download centre.")
            )
            return redirect("core:job_detail", pk=record.job_id)
    table = paginate(
        request,
        tables.ExportRecordTable(selectors.export_records()),
    )
    return render(request, "pickup/export.html", {"form": form, "table": table})


@permission_required(MANAGE)
def print_cards(request):
    """⑤ 印刷提货卡: card sheets of the selected codes, made in the background."""
    form = forms.PrintCardsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.start_card_print(
                actor=request.user,
                selection=selectors.clean_selection(form.cleaned_data),
                layout=form.layout_params(),
                notes=form.cleaned_data["notes"],
                package=form.cleaned_data["package"],
                base_url=request.build_absolute_uri("/"),
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("The card sheets are being drawn; the file will be in the download centre."),
            )
            return redirect("core:job_detail", pk=job.pk)
    return render(request, "pickup/print_cards.html", {"form": form})
