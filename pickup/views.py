"""Operator pages of gift-card pickup; thin: permission/scope, one service or selector, render."""

import io
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from couponhub.core import sms
from couponhub.core.errors import Refused
from couponhub.core.models import SmsMessage
from couponhub.core.permissions import (
    get_scoped_or_404,
    has_perm,
    permission_required,
    scoped,
)
from couponhub.core.views import paginate
from pickup import filters, forms, selectors, services, tables
from pickup.models import (
    Brand,
    CardType,
    CardTypeItem,
    Category,
    CodeBatch,
    Courier,
    ExportRecord,
    ImportRecord,
    PickupCode,
    PickupSettings,
    PickupStore,
    Product,
    SpecAttribute,
)

VIEW, MANAGE = "pickup.view", "pickup.manage"


# ---------------------------------------------------------------------------
# Plain records (stores, couriers, catalogue, card types) through one set of views
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    name: str
    model: type
    form: type
    table: type
    title: str
    singular: str
    queryset: object = None
    scope_field: str | None = None
    copy: object = None
    filterset: type | None = None
    hint: str = ""
    extra: dict = field(default_factory=dict)

    def qs(self):
        return self.queryset() if callable(self.queryset) else self.model.objects.all()


ENTITIES = {
    e.name: e
    for e in [
        Entity(
            "store",
            PickupStore,
            forms.PickupStoreForm,
            tables.PickupStoreTable,
            gettext_lazy("Pickup stores"),
            gettext_lazy("pickup store"),
            queryset=lambda: PickupStore.objects.select_related("store"),
            scope_field="store",
            hint=gettext_lazy("Stores where consumers may collect their goods."),
        ),
        Entity(
            "courier",
            Courier,
            forms.CourierForm,
            tables.CourierTable,
            gettext_lazy("Couriers"),
            gettext_lazy("courier"),
            hint=gettext_lazy(
                "The courier code must be the company's standard code so shipments can be "
                "tracked (SF 顺丰, YTO 圆通, ZTO 中通, STO 申通, YD 韵达, JD 京东, EMS)."
            ),
        ),
        Entity(
            "category",
            Category,
            forms.CategoryForm,
            tables.CategoryTable,
            gettext_lazy("Product categories"),
            gettext_lazy("category"),
            queryset=lambda: Category.objects.annotate(product_count=Count("products")),
        ),
        Entity(
            "spec",
            SpecAttribute,
            forms.SpecAttributeForm,
            tables.SpecAttributeTable,
            gettext_lazy("Product specs"),
            gettext_lazy("spec attribute"),
            queryset=lambda: SpecAttribute.objects.prefetch_related("values"),
        ),
        Entity(
            "brand",
            Brand,
            forms.BrandForm,
            tables.BrandTable,
            gettext_lazy("Brands"),
            gettext_lazy("brand"),
        ),
        Entity(
            "product",
            Product,
            forms.ProductForm,
            tables.ProductTable,
            gettext_lazy("Products"),
            gettext_lazy("product"),
            queryset=lambda: Product.objects.select_related("category", "brand").prefetch_related(
                "spec_values__attribute"
            ),
            copy=services.copy_product,
            filterset=filters.ProductFilter,
        ),
        Entity(
            "cardtype",
            CardType,
            forms.CardTypeForm,
            tables.CardTypeTable,
            gettext_lazy("Card types"),
            gettext_lazy("card type"),
            queryset=lambda: CardType.objects.prefetch_related(
                Prefetch("items", queryset=CardTypeItem.objects.select_related("product"))
            ),
            copy=services.copy_card_type,
            hint=gettext_lazy(
                "A card type (e.g. 2388套餐) says which products a card buys and how they "
                "are delivered."
            ),
        ),
    ]
}


def _entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError as exc:
        raise Http404 from exc


def _get(request, entity: Entity, pk: int, perm: str):
    if entity.scope_field:
        return get_scoped_or_404(request.user, perm, entity.qs(), entity.scope_field, pk=pk)
    return get_object_or_404(entity.qs(), pk=pk)


@permission_required(VIEW)
def entity_list(request, entity: str):
    e = _entity(entity)
    qs = e.qs()
    if e.scope_field:
        qs = scoped(request.user, VIEW, qs, e.scope_field)
    filterset = e.filterset(request.GET, queryset=qs) if e.filterset else None
    table = paginate(request, e.table(filterset.qs if filterset else qs))
    if not has_perm(request.user, MANAGE):
        table.exclude = ("actions",)
    return render(
        request,
        "pickup/entity_list.html",
        {
            "e": e,
            "table": table,
            "filter": filterset,
            "can_manage": has_perm(request.user, MANAGE),
        },
    )


def _save_entity(request, e: Entity, form) -> object:
    instance = form.save(commit=False)
    if e.name == "spec":
        return services.save_spec_attribute(
            actor=request.user, attribute=instance, values=form.cleaned_data["values_text"]
        )
    if e.name == "cardtype":
        return services.save_card_type(
            actor=request.user,
            card_type=instance,
            items=[(p, 1) for p in form.cleaned_data["product_list"]],
            stores=form.cleaned_data["stores"],
        )
    m2m = {"spec_values": form.cleaned_data["spec_values"]} if e.name == "product" else None
    return services.save_record(actor=request.user, instance=instance, m2m=m2m)


@permission_required(MANAGE)
def entity_edit(request, entity: str, pk: int | None = None):
    e = _entity(entity)
    instance = _get(request, e, pk, MANAGE) if pk else None
    kwargs = {"user": request.user} if e.name == "store" else {}
    form = e.form(request.POST or None, instance=instance, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            obj = _save_entity(request, e, form)
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Saved: %(obj)s") % {"obj": obj})
            return redirect("pickup:entity_list", entity=e.name)
    return render(request, "pickup/entity_form.html", {"e": e, "form": form, "object": instance})


@permission_required(MANAGE)
@require_POST
def entity_delete(request, entity: str, pk: int):
    e = _entity(entity)
    obj = _get(request, e, pk, MANAGE)
    try:
        services.delete_record(actor=request.user, instance=obj)
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Deleted: %(obj)s") % {"obj": obj})
    return redirect("pickup:entity_list", entity=e.name)


@permission_required(MANAGE)
@require_POST
def entity_copy(request, entity: str, pk: int):
    e = _entity(entity)
    if e.copy is None:
        raise Http404
    obj = _get(request, e, pk, MANAGE)
    copy = e.copy(actor=request.user, **{"product" if e.name == "product" else "card_type": obj})
    messages.success(request, _("Copied as %(obj)s; adjust the details below.") % {"obj": copy})
    return redirect("pickup:entity_edit", entity=e.name, pk=copy.pk)


# ---------------------------------------------------------------------------
# Settings, SMS account, operation log
# ---------------------------------------------------------------------------


@permission_required(MANAGE)
def settings_page(request):
    instance = PickupSettings.load()
    form = forms.SettingsForm(request.POST or None, request.FILES or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.save_settings(
            actor=request.user,
            instance=form.save(commit=False),
            logo_bytes=form.cleaned_data.get("logo_upload"),
        )
        messages.success(request, _("Settings saved."))
        return redirect("pickup:settings")
    return render(request, "pickup/settings.html", {"form": form, "settings_obj": instance})


@permission_required(MANAGE)
def sms_page(request):
    account = sms.get_account()
    qs = SmsMessage.objects.filter(purpose__startswith="pickup")
    from couponhub.core.tables import SmsMessageTable

    return render(
        request,
        "pickup/sms.html",
        {
            "account": account,
            "price": sms.sms_price(),
            "top_ups": account.top_ups.select_related("actor")[:20],
            "table": paginate(request, SmsMessageTable(qs)),
            "can_top_up": has_perm(request.user, "core.manage_sms"),
        },
    )


@permission_required(VIEW)
def operation_log(request):
    filterset = filters.PickupAuditFilter(request.GET, queryset=selectors.pickup_audit_entries())
    table = paginate(request, tables.PickupAuditTable(filterset.qs))
    return render(request, "pickup/operation_log.html", {"filter": filterset, "table": table})


# ---------------------------------------------------------------------------
# Pickup codes
# ---------------------------------------------------------------------------


@permission_required(VIEW)
def code_list(request):
    filterset = filters.PickupCodeFilter(request.GET, queryset=selectors.codes_for_list())
    table = paginate(request, tables.PickupCodeTable(filterset.qs))
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
    import qrcode
    import qrcode.image.svg

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


# ---------------------------------------------------------------------------
# Import / export
# ---------------------------------------------------------------------------


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
        tables.ImportRecordTable(
            ImportRecord.objects.select_related("card_type", "batch", "created_by")
        ),
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
        tables.ExportRecordTable(ExportRecord.objects.select_related("job", "created_by")),
    )
    return render(request, "pickup/export.html", {"form": form, "table": table})
