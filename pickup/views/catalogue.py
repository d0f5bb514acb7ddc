"""Catalogue pages: pickup stores, couriers, categories, specs, brands, products, card types."""

from dataclasses import dataclass, field

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.permissions import (
    get_scoped_or_404,
    has_perm,
    permission_required,
    scoped,
)
from couponhub.core.views import paginate
from pickup import filters, forms, services, tables
from pickup.models import (
    Brand,
    CardType,
    CardTypeItem,
    Category,
    Courier,
    PickupStore,
    Product,
    SpecAttribute,
)
from pickup.views.common import MANAGE, VIEW


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
