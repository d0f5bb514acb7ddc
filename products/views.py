from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.permissions import has_perm, permission_required
from couponhub.core.views import paginate
from products import selectors, services
from products.filters import CategoryFilter, ProductFilter
from products.forms import CategoryForm, ProductForm, ProductImportForm
from products.models import Category, Product
from products.tables import CategoryTable, ProductImportTable, ProductTable


@permission_required("products.view")
def category_list(request):
    filterset = CategoryFilter(request.GET, queryset=selectors.categories())
    table = paginate(request, CategoryTable(filterset.qs))
    can_manage = has_perm(request.user, "products.manage")
    return render(
        request,
        "products/category_list.html",
        {"filter": filterset, "table": table, "can_manage": can_manage},
    )


def _edit(request, form, template: str, save, done_url: str, obj=None):
    if request.method == "POST" and form.is_valid():
        try:
            save(form.save(commit=False))
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect(done_url)
    return render(request, template, {"form": form, "object": obj})


@permission_required("products.manage")
def category_edit(request, pk: int | None = None):
    category = get_object_or_404(Category, pk=pk) if pk else None
    form = CategoryForm(request.POST or None, instance=category)
    return _edit(
        request,
        form,
        "products/category_form.html",
        lambda c: services.save_category(actor=request.user, category=c),
        "products:categories",
        category,
    )


@permission_required("products.manage")
@require_POST
def category_enabled(request, pk: int, enabled: int):
    category = get_object_or_404(Category, pk=pk)
    try:
        services.set_category_enabled(actor=request.user, category=category, enabled=bool(enabled))
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("products:categories")


@permission_required("products.view")
def product_list(request):
    filterset = ProductFilter(request.GET, queryset=selectors.products())
    table = paginate(request, ProductTable(filterset.qs))
    can_manage = has_perm(request.user, "products.manage")
    return render(
        request,
        "products/product_list.html",
        {"filter": filterset, "table": table, "can_manage": can_manage},
    )


@permission_required("products.manage")
def product_edit(request, pk: int | None = None):
    product = get_object_or_404(Product, pk=pk) if pk else None
    form = ProductForm(request.POST or None, instance=product)
    return _edit(
        request,
        form,
        "products/product_form.html",
        lambda p: services.save_product(actor=request.user, product=p),
        "products:products",
        product,
    )


@permission_required("products.manage")
@require_POST
def product_enabled(request, pk: int, enabled: int):
    product = get_object_or_404(Product, pk=pk)
    try:
        services.set_product_enabled(actor=request.user, product=product, enabled=bool(enabled))
    except Refused as exc:
        messages.error(request, exc.message)
    return redirect("products:products")


@permission_required("products.manage")
def product_import(request):
    form = ProductImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        imp = services.start_product_import(actor=request.user, upload=form.cleaned_data["file"])
        messages.success(request, _("The import is queued; its result appears on the job page."))
        return redirect("core:job_detail", pk=imp.job_id)
    table = paginate(request, ProductImportTable(selectors.product_imports_for(request.user)))
    return render(request, "products/product_import.html", {"form": form, "table": table})


@permission_required("products.view")
def product_search(request):
    """The pickers' server search (抵换食品, an outside activity's food): code or name."""
    found = selectors.search_products(request.GET.get("q", ""))
    return JsonResponse({"results": [{"value": p.pk, "text": f"{p.sku} {p.name}"} for p in found]})
