"""Reads of the product master: the list pages, the pickers' search, and what the order side
asks (a SKU's category, a category's sub-categories)."""

from collections.abc import Iterable

from django.db.models import Case, F, Q, QuerySet, When
from django.db.models.functions import Coalesce

from products.models import Category, Product, ProductImport

PICKER_LIMIT = 20


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("code")


def products() -> QuerySet[Product]:
    return Product.objects.select_related("category__parent").order_by("sku")


def product_imports_for(user) -> QuerySet[ProductImport]:
    return ProductImport.objects.filter(created_by=user).select_related("job")


def search_products(text: str, *, limit: int = PICKER_LIMIT) -> list[Product]:
    """The picker's search: enabled foods whose code starts with, or name contains, the text;
    exact codes first. Thousands of foods are never sent to the page."""
    text = (text or "").strip()[:40]
    qs = Product.objects.filter(enabled=True).select_related("category")
    if not text:
        return list(qs.order_by("sku")[:limit])
    qs = qs.filter(Q(sku__istartswith=text) | Q(name__icontains=text))
    exact_first = Case(When(sku__iexact=text, then=0), default=1)
    return list(qs.order_by(exact_first, "sku")[:limit])


def category_choices(*, include_disabled: bool = False) -> QuerySet[Category]:
    """Categories in tree order: each top-level one followed by its sub-categories."""
    qs = Category.objects.select_related("parent")
    if not include_disabled:
        qs = qs.filter(enabled=True)
    return qs.annotate(top_code=Coalesce("parent__code", "code")).order_by(
        "top_code", F("parent_id").asc(nulls_first=True), "code"
    )


def category_keys(category_ids: Iterable[int]) -> dict[int, set[str]]:
    """{category id: its code and name and those of its sub-categories}: what an order item's
    category is matched against (excluding 饮品 excludes 咖啡 too)."""
    ids = set(category_ids)
    keys: dict[int, set[str]] = {i: set() for i in ids}
    rows = Category.objects.filter(Q(pk__in=ids) | Q(parent_id__in=ids)).values_list(
        "pk", "parent_id", "code", "name"
    )
    for pk, parent_id, code, name in rows:
        for owner in (pk, parent_id):
            if owner in keys:
                keys[owner].update((code, name))
    return keys


def categories_of_skus(skus: Iterable[str]) -> dict[str, str]:
    """{sku: category code} of the foods the master knows and has a category for."""
    skus = {s for s in skus if s}
    if not skus:
        return {}
    return dict(
        Product.objects.filter(sku__in=skus, category__isnull=False).values_list(
            "sku", "category__code"
        )
    )
