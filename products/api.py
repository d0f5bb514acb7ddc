"""The product master over the signed API: the chain's POS/ERP keeps 食品类别 and 食品基础资料
(bulk upserts, all or nothing, the same request twice changes nothing the second time) and any
client reads them, a page at a time by code."""

import datetime
from decimal import Decimal

from django.db.models import Q
from ninja import Field, Query, Router, Schema

from couponhub.core.idempotency import idempotent
from products import services
from products.models import Category, Product

router = Router(tags=["products"])
ERRORS = {400: dict, 404: dict, 409: dict}
MAX_ROWS = 1000
Code = Field(..., min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-.]+$")


class CategoryIn(Schema):
    code: str = Field(..., min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_\-.]+$")
    name: str = Field(..., min_length=1, max_length=50)
    parent_code: str = Field(
        "", max_length=30, description="the top-level category this one is under (two levels)"
    )
    enabled: bool = True


class CategoriesIn(Schema):
    categories: list[CategoryIn] = Field(..., min_length=1, max_length=MAX_ROWS)


class ProductIn(Schema):
    sku: str = Code
    name: str = Field(..., min_length=1, max_length=100)
    category_code: str = Field("", max_length=30, description="an existing category's code")
    unit: str = Field("", max_length=10)
    price: Decimal | None = Field(None, ge=0, le=Decimal("99999999.99"), decimal_places=2)
    enabled: bool = True


class ProductsIn(Schema):
    products: list[ProductIn] = Field(..., min_length=1, max_length=MAX_ROWS)


class UpsertOut(Schema):
    created: int
    updated: int
    unchanged: int


class CategoryOut(Schema):
    code: str
    name: str
    parent_code: str
    enabled: bool
    updated_at: datetime.datetime


class ProductOut(Schema):
    sku: str
    name: str
    category_code: str
    unit: str
    price: str | None
    enabled: bool
    updated_at: datetime.datetime


class ProductPage(Schema):
    products: list[ProductOut]
    next_after: str | None = Field(None, description="pass as `after` for the next page")


class ProductQuery(Schema):
    after: str = Field("", max_length=40, description="the last SKU of the previous page")
    limit: int = Field(200, ge=1, le=MAX_ROWS)
    category_code: str = Field("", max_length=30, description="this category and those under it")


def _upserted(result: services.Upserted) -> dict:
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


@router.post(
    "/product-categories",
    response={200: UpsertOut, **ERRORS},
    summary="Add or change food categories by code, all or nothing (1–1000 a request)",
)
@idempotent
def upsert_categories(request, payload: CategoriesIn):
    result = services.upsert_categories(
        actor=f"api:{request.auth.name}",
        rows=[
            services.CategoryData(
                code=c.code, name=c.name, parent_code=c.parent_code, enabled=c.enabled
            )
            for c in payload.categories
        ],
    )
    return _upserted(result)


@router.get(
    "/product-categories",
    response={200: list[CategoryOut], **ERRORS},
    summary="Every food category (a few hundred at most)",
)
def list_categories(request):
    return [
        {
            "code": c.code,
            "name": c.name,
            "parent_code": c.parent.code if c.parent_id else "",
            "enabled": c.enabled,
            "updated_at": c.updated_at,
        }
        for c in Category.objects.select_related("parent").order_by("code")
    ]


@router.post(
    "/products",
    response={200: UpsertOut, **ERRORS},
    summary="Add or change foods by SKU, all or nothing (1–1000 a request)",
)
@idempotent
def upsert_products(request, payload: ProductsIn):
    result = services.upsert_products(
        actor=f"api:{request.auth.name}",
        rows=[
            services.ProductData(
                sku=p.sku,
                name=p.name,
                category_code=p.category_code,
                unit=p.unit,
                price=p.price,
                enabled=p.enabled,
            )
            for p in payload.products
        ],
    )
    return _upserted(result)


@router.get(
    "/products",
    response={200: ProductPage, **ERRORS},
    summary="Foods by SKU, a page at a time (`after` the last SKU of the previous page)",
)
def list_products(request, query: Query[ProductQuery]):
    qs = Product.objects.select_related("category").order_by("sku")
    if query.after:
        qs = qs.filter(sku__gt=query.after)
    if query.category_code:
        qs = qs.filter(
            Q(category__code=query.category_code) | Q(category__parent__code=query.category_code)
        )
    page = list(qs[: query.limit + 1])
    more = len(page) > query.limit
    page = page[: query.limit]
    return {
        "products": [
            {
                "sku": p.sku,
                "name": p.name,
                "category_code": p.category.code if p.category_id else "",
                "unit": p.unit,
                "price": str(p.price) if p.price is not None else None,
                "enabled": p.enabled,
                "updated_at": p.updated_at,
            }
            for p in page
        ],
        "next_after": page[-1].sku if more else None,
    }
