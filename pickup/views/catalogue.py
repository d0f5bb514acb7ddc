"""Catalogue pages: pickup stores, couriers, categories, specs, brands, products, card types.

Each model has its own list, add, edit and delete page (products and card types also a copy
action), small classes in the manner of django-oscar's dashboard. A model's `…Pages` class says
what all its pages share: the model, the texts of the shared templates (entity_list.html,
entity_form.html), its form and the service that saves it. The generic part (permission, scope,
messages, redirects) is in the Record* classes. pickup/urls.py maps them under m/<entity>/.
"""

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View

from couponhub.core.errors import Refused
from couponhub.core.permissions import (
    get_scoped_or_404,
    has_perm,
    permission_required,
    scoped,
)
from couponhub.core.views import paginate
from pickup import filters, forms, selectors, services, tables
from pickup.models import Brand, CardType, Category, Courier, PickupStore, Product, SpecAttribute
from pickup.views.common import MANAGE, VIEW

# ---------------------------------------------------------------------------
# What every catalogue page does
# ---------------------------------------------------------------------------


class CataloguePage(View):
    """One catalogue page: logged in and holding `permission` (403 without it); a record is
    fetched through `get_queryset`, within the user's scope when the model has a `scope_field`
    (404 outside it)."""

    permission = MANAGE
    model: type[Model]
    entity: str  # the URL segment, m/<entity>/
    title: str
    singular: str
    hint = ""
    scope_field: str | None = None  # the lookup to the record's Org, for a scoped model

    @classmethod
    def as_view(cls, **initkwargs):
        return permission_required(cls.permission)(super().as_view(**initkwargs))

    def get_queryset(self) -> QuerySet:
        return self.model.objects.all()

    def get_object(self) -> Model:
        if self.scope_field:
            return get_scoped_or_404(
                self.request.user,
                self.permission,
                self.get_queryset(),
                self.scope_field,
                pk=self.kwargs["pk"],
            )
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def page_context(self, **context) -> dict:
        """What the shared templates show: the model's texts and the URL segment."""
        return {
            "entity": self.entity,
            "title": self.title,
            "singular": self.singular,
            "hint": self.hint,
            **context,
        }

    def to_list(self):
        return redirect("pickup:entity_list", entity=self.entity)


class RecordList(CataloguePage):
    """The model's table (paged, filtered by `filterset_class` if any); the actions column only
    for pickup.manage."""

    permission = VIEW
    table_class: type
    filterset_class: type | None = None

    def get(self, request, **kwargs):
        qs = self.get_queryset()
        if self.scope_field:
            qs = scoped(request.user, self.permission, qs, self.scope_field)
        filterset = self.filterset_class(request.GET, queryset=qs) if self.filterset_class else None
        table = paginate(request, self.table_class(filterset.qs if filterset else qs))
        can_manage = has_perm(request.user, MANAGE)
        if not can_manage:
            table.exclude = ("actions",)
        context = self.page_context(table=table, filter=filterset, can_manage=can_manage)
        return render(request, "pickup/entity_list.html", context)


class RecordForm(CataloguePage):
    """A record's form; a valid one goes to the model's service (`save_form`), a refusal is shown on
    the form, success goes back to the list."""

    form_class: type

    def get_instance(self) -> Model | None:
        raise NotImplementedError

    def get_form(self, instance: Model | None):
        return self.form_class(self.request.POST or None, instance=instance)

    def save_form(self, form) -> Model:
        raise NotImplementedError

    def get(self, request, **kwargs):
        return self.form_page(request)

    def post(self, request, **kwargs):
        return self.form_page(request)

    def form_page(self, request):
        instance = self.get_instance()
        form = self.get_form(instance)
        if request.method == "POST" and form.is_valid():
            try:
                obj = self.save_form(form)
            except Refused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Saved: %(obj)s") % {"obj": obj})
                return self.to_list()
        context = self.page_context(form=form, object=instance)
        return render(request, "pickup/entity_form.html", context)


class RecordCreate(RecordForm):
    def get_instance(self) -> None:
        return None


class RecordUpdate(RecordForm):
    def get_instance(self) -> Model:
        return self.get_object()


class RecordDelete(CataloguePage):
    """POST only: the model's service deletes the record (`delete_object`) or refuses, shown as a
    message."""

    http_method_names = ["post"]

    def delete_object(self, obj: Model) -> None:
        raise NotImplementedError

    def post(self, request, **kwargs):
        obj = self.get_object()
        try:
            self.delete_object(obj)
        except Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Deleted: %(obj)s") % {"obj": obj})
        return self.to_list()


class RecordCopy(CataloguePage):
    """POST only: the model's service copies the record (`copy_object`); the copy's edit page
    opens next."""

    http_method_names = ["post"]

    def copy_object(self, obj: Model) -> Model:
        raise NotImplementedError

    def post(self, request, **kwargs):
        copy = self.copy_object(self.get_object())
        messages.success(request, _("Copied as %(obj)s; adjust the details below.") % {"obj": copy})
        return redirect("pickup:entity_edit", entity=self.entity, pk=copy.pk)


# ---------------------------------------------------------------------------
# Pickup stores
# ---------------------------------------------------------------------------


class PickupStorePages(CataloguePage):
    model = PickupStore
    entity = "store"
    title = gettext_lazy("Pickup stores")
    singular = gettext_lazy("pickup store")
    hint = gettext_lazy("Stores where consumers may collect their goods.")
    scope_field = "store"

    def get_queryset(self):
        return selectors.pickup_stores_for_list()

    def get_form(self, instance):
        return forms.PickupStoreForm(
            self.request.POST or None, instance=instance, user=self.request.user
        )

    def save_form(self, form):
        store = form.save(commit=False)
        return services.save_pickup_store(actor=self.request.user, pickup_store=store)

    def delete_object(self, obj):
        services.delete_pickup_store(actor=self.request.user, pickup_store=obj)


class PickupStoreList(PickupStorePages, RecordList):
    table_class = tables.PickupStoreTable


class PickupStoreCreate(PickupStorePages, RecordCreate):
    """Only stores within the user's scope are offered (PickupStoreForm)."""


class PickupStoreUpdate(PickupStorePages, RecordUpdate):
    """A store outside the user's scope is 404."""


class PickupStoreDelete(PickupStorePages, RecordDelete):
    """Refused while a card type lists the store."""


# ---------------------------------------------------------------------------
# Couriers
# ---------------------------------------------------------------------------


class CourierPages(CataloguePage):
    model = Courier
    entity = "courier"
    title = gettext_lazy("Couriers")
    singular = gettext_lazy("courier")
    hint = gettext_lazy(
        "The courier code must be the company's standard code so shipments can be "
        "tracked (SF 顺丰, YTO 圆通, ZTO 中通, STO 申通, YD 韵达, JD 京东, EMS)."
    )
    form_class = forms.CourierForm

    def save_form(self, form):
        return services.save_courier(actor=self.request.user, courier=form.save(commit=False))

    def delete_object(self, obj):
        services.delete_courier(actor=self.request.user, courier=obj)


class CourierList(CourierPages, RecordList):
    table_class = tables.CourierTable


class CourierCreate(CourierPages, RecordCreate):
    """Add a courier."""


class CourierUpdate(CourierPages, RecordUpdate):
    """Edit a courier."""


class CourierDelete(CourierPages, RecordDelete):
    """Refused while an order was shipped with it."""


# ---------------------------------------------------------------------------
# Product categories
# ---------------------------------------------------------------------------


class CategoryPages(CataloguePage):
    model = Category
    entity = "category"
    title = gettext_lazy("Product categories")
    singular = pgettext_lazy("pickup", "category")
    form_class = forms.CategoryForm

    def get_queryset(self):
        return selectors.categories_for_list()

    def save_form(self, form):
        return services.save_category(actor=self.request.user, category=form.save(commit=False))

    def delete_object(self, obj):
        services.delete_category(actor=self.request.user, category=obj)


class CategoryList(CategoryPages, RecordList):
    table_class = tables.CategoryTable


class CategoryCreate(CategoryPages, RecordCreate):
    """Add a category."""


class CategoryUpdate(CategoryPages, RecordUpdate):
    """Edit a category."""


class CategoryDelete(CategoryPages, RecordDelete):
    """Refused while it holds products."""


# ---------------------------------------------------------------------------
# Product specs
# ---------------------------------------------------------------------------


class SpecAttributePages(CataloguePage):
    model = SpecAttribute
    entity = "spec"
    title = gettext_lazy("Product specs")
    singular = gettext_lazy("spec attribute")
    form_class = forms.SpecAttributeForm

    def get_queryset(self):
        return selectors.spec_attributes_for_list()

    def save_form(self, form):
        return services.save_spec_attribute(
            actor=self.request.user,
            attribute=form.save(commit=False),
            values=form.cleaned_data["values_text"],
        )

    def delete_object(self, obj):
        services.delete_spec_attribute(actor=self.request.user, attribute=obj)


class SpecAttributeList(SpecAttributePages, RecordList):
    table_class = tables.SpecAttributeTable


class SpecAttributeCreate(SpecAttributePages, RecordCreate):
    """Add an attribute with its values (one a line)."""


class SpecAttributeUpdate(SpecAttributePages, RecordUpdate):
    """Edit an attribute and its list of values."""


class SpecAttributeDelete(SpecAttributePages, RecordDelete):
    """Delete an attribute and its values."""


# ---------------------------------------------------------------------------
# Brands
# ---------------------------------------------------------------------------


class BrandPages(CataloguePage):
    model = Brand
    entity = "brand"
    title = gettext_lazy("Brands")
    singular = gettext_lazy("brand")
    form_class = forms.BrandForm

    def save_form(self, form):
        return services.save_brand(actor=self.request.user, brand=form.save(commit=False))

    def delete_object(self, obj):
        services.delete_brand(actor=self.request.user, brand=obj)


class BrandList(BrandPages, RecordList):
    table_class = tables.BrandTable


class BrandCreate(BrandPages, RecordCreate):
    """Add a brand."""


class BrandUpdate(BrandPages, RecordUpdate):
    """Edit a brand."""


class BrandDelete(BrandPages, RecordDelete):
    """Refused while it has products."""


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------


class ProductPages(CataloguePage):
    model = Product
    entity = "product"
    title = gettext_lazy("Products")
    singular = gettext_lazy("product")
    form_class = forms.ProductForm

    def get_queryset(self):
        return selectors.products_for_list()

    def save_form(self, form):
        return services.save_product(
            actor=self.request.user,
            product=form.save(commit=False),
            spec_values=form.cleaned_data["spec_values"],
        )

    def delete_object(self, obj):
        services.delete_product(actor=self.request.user, product=obj)

    def copy_object(self, obj):
        return services.copy_product(actor=self.request.user, product=obj)


class ProductList(ProductPages, RecordList):
    table_class = tables.ProductTable
    filterset_class = filters.ProductFilter


class ProductCreate(ProductPages, RecordCreate):
    """Add a product with its specs."""


class ProductUpdate(ProductPages, RecordUpdate):
    """Edit a product and its specs."""


class ProductDelete(ProductPages, RecordDelete):
    """Refused while a card type lists it."""


class ProductCopy(ProductPages, RecordCopy):
    """Copy a product (name + （复制）) with its specs."""


# ---------------------------------------------------------------------------
# Card types
# ---------------------------------------------------------------------------


class CardTypePages(CataloguePage):
    model = CardType
    entity = "cardtype"
    title = gettext_lazy("Card types")
    singular = pgettext_lazy("pickup", "card type")
    hint = gettext_lazy(
        "A card type (e.g. 2388套餐) says which products a card buys and how they are delivered."
    )
    form_class = forms.CardTypeForm

    def get_queryset(self):
        return selectors.card_types_for_list()

    def save_form(self, form):
        return services.save_card_type(
            actor=self.request.user,
            card_type=form.save(commit=False),
            items=[(p, 1) for p in form.cleaned_data["product_list"]],
            stores=form.cleaned_data["stores"],
        )

    def delete_object(self, obj):
        services.delete_card_type(actor=self.request.user, card_type=obj)

    def copy_object(self, obj):
        return services.copy_card_type(actor=self.request.user, card_type=obj)


class CardTypeList(CardTypePages, RecordList):
    table_class = tables.CardTypeTable


class CardTypeCreate(CardTypePages, RecordCreate):
    """Add a card type with its products and allowed stores."""


class CardTypeUpdate(CardTypePages, RecordUpdate):
    """Edit a card type, its products and allowed stores."""


class CardTypeDelete(CardTypePages, RecordDelete):
    """Refused once it has code batches."""


class CardTypeCopy(CardTypePages, RecordCopy):
    """Copy a card type (name + （复制）) with its products and stores."""
