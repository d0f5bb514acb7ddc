"""Writes to the product master: the back-office pages (one category or food at a time), the
signed API (upserts in bulk, all or nothing) and the Excel import (good rows in, bad rows to
the error file). Every write is one transaction with its audit entry."""

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from couponhub.core import staging
from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.money import to_money
from couponhub.core.spreadsheets import write_csv
from products.models import Category, Product, ProductImport

CODE_RE = re.compile(r"^[A-Za-z0-9_\-.]{1,40}$")
CATEGORY_FIELDS = ["code", "name", "parent_id", "enabled"]
PRODUCT_FIELDS = ["sku", "name", "category_id", "unit", "price", "enabled"]
MAX_PRICE = Decimal("99999999.99")


def _state(enabled: bool) -> str:
    return "启用" if enabled else "禁用"


def _refuse(message: str, status: int = 400) -> Refused:
    return Refused("product_refused", message, status)


# --- categories -----------------------------------------------------------------------------------


def _check_category(category: Category) -> None:
    category.code = (category.code or "").strip()
    category.name = (category.name or "").strip()
    if not CODE_RE.match(category.code):
        raise _refuse("类别编码：应为1～30位字母、数字、-、_或.")
    if len(category.code) > 30:
        raise _refuse("类别编码：最多30位")
    if not category.name:
        raise _refuse("类别名称：必须填写")
    if len(category.name) > 50:
        raise _refuse("类别名称：最多50个字")
    if category.parent_id:
        if category.pk and category.parent_id == category.pk:
            raise _refuse("上级类别：不能是该类别自己")
        parent = Category.objects.get(pk=category.parent_id)
        if parent.parent_id:
            raise _refuse(f"上级类别：【{parent.name}】已是二级类别，食品类别最多两级")
        if category.pk and category.children.exists():
            raise _refuse(f"上级类别：【{category.name}】下已有子类别，不能再设上级")


def save_category(*, actor, category: Category) -> Category:
    """新增 or 修改 a 食品类别 (two levels at most; the code is unique)."""
    _check_category(category)
    return _save(actor, category, CATEGORY_FIELDS, "category", f"类别编码：{category.code}已存在")


def set_category_enabled(*, actor, category: Category, enabled: bool) -> Category:
    """禁用 keeps the category on the rules that name it; it is no longer offered for new ones."""
    return _set_enabled(actor, category, enabled, "category", f"食品类别【{category.name}】")


def _save(actor, obj, fields: list[str], kind: str, taken: str):
    """Save a checked category or food with its audit entry (`taken`: the refusal when its code
    is already used)."""
    model = type(obj)
    with transaction.atomic():
        creating = obj.pk is None
        before = None
        if not creating:
            before = snapshot(model.objects.select_for_update().get(pk=obj.pk), fields)
        obj.updated_at = timezone.now()
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError as exc:
            raise _refuse(taken, 409) from exc
        record_audit(
            actor=actor,
            action=f"products.{kind}_{'create' if creating else 'update'}",
            obj=obj,
            before=before,
            after=snapshot(obj, fields),
        )
    return obj


def _set_enabled(actor, obj, enabled: bool, kind: str, label: str):
    with transaction.atomic():
        updated = (
            type(obj)
            .objects.filter(pk=obj.pk, enabled=not enabled)
            .update(enabled=enabled, updated_at=timezone.now())
        )
        if not updated:
            raise _refuse(f"{label}已{_state(enabled)}", 409)
        record_audit(
            actor=actor,
            action=f"products.{kind}_{'enable' if enabled else 'disable'}",
            obj=obj,
        )
    obj.refresh_from_db()
    return obj


# --- foods ----------------------------------------------------------------------------------------


def _check_product(product: Product) -> None:
    product.sku = (product.sku or "").strip()
    product.name = (product.name or "").strip()
    product.unit = (product.unit or "").strip()
    if not CODE_RE.match(product.sku):
        raise _refuse("食品编码：应为1～40位字母、数字、-、_或.")
    if not product.name:
        raise _refuse("食品名称：必须填写")
    if len(product.name) > 100:
        raise _refuse("食品名称：最多100个字")
    if len(product.unit) > 10:
        raise _refuse("单位：最多10个字")
    if product.price is not None and not (0 <= product.price <= MAX_PRICE):
        raise _refuse("售价：应在0到99,999,999.99元之间")


def save_product(*, actor, product: Product) -> Product:
    """新增 or 修改 one food of the master."""
    _check_product(product)
    return _save(actor, product, PRODUCT_FIELDS, "product", f"食品编码：{product.sku}已存在")


def set_product_enabled(*, actor, product: Product, enabled: bool) -> Product:
    """禁用 keeps the food on the rules and activities that name it; new ones cannot pick it."""
    return _set_enabled(actor, product, enabled, "product", f"食品【{product.name}】")


# --- the API's bulk upserts (all or nothing) ------------------------------------------------------


@dataclass(frozen=True)
class CategoryData:
    code: str
    name: str
    parent_code: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class ProductData:
    sku: str
    name: str
    category_code: str = ""
    unit: str = ""
    price: Decimal | None = None
    enabled: bool = True


@dataclass(frozen=True)
class Upserted:
    created: int
    updated: int
    unchanged: int


def _duplicates(keys: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for n, key in enumerate(keys, start=1):
        if key in seen:
            raise _refuse(f"第{n}条：{what}{key}在本次请求中重复")
        seen.add(key)


def upsert_categories(*, actor, rows: Sequence[CategoryData]) -> Upserted:
    """Add or change 食品类别 by code, all or nothing; a parent may be another row of the same
    request. The same request twice changes nothing the second time."""
    _duplicates([r.code for r in rows], "类别编码")
    with transaction.atomic():
        codes = {r.code for r in rows} | {r.parent_code for r in rows if r.parent_code}
        existing = {c.code: c for c in Category.objects.select_for_update().filter(code__in=codes)}
        # parents first, so a child finds its parent's id
        ordered = sorted(enumerate(rows, start=1), key=lambda nr: bool(nr[1].parent_code))
        created = updated = 0
        now = timezone.now()
        for n, row in ordered:
            category = existing.get(row.code) or Category(code=row.code)
            parent = existing.get(row.parent_code) if row.parent_code else None
            if row.parent_code and parent is None:
                raise _refuse(f"第{n}条：上级类别编码{row.parent_code}不存在")
            new = (row.code, row.name.strip(), parent.pk if parent else None, row.enabled)
            old = (category.code, category.name, category.parent_id, category.enabled)
            if category.pk and new == old:
                continue
            category.name, category.parent_id, category.enabled = new[1], new[2], new[3]
            try:
                _check_category(category)
            except Refused as exc:
                raise _refuse(f"第{n}条：{exc.message}") from exc
            if parent is not None and any(r.parent_code == row.code for r in rows):
                raise _refuse(f"第{n}条：【{row.name}】下有子类别，不能再设上级，食品类别最多两级")
            if category.pk:
                updated += 1
            else:
                created += 1
                category.created_at = now
            category.updated_at = now
            category.save()
            existing[row.code] = category
        record_audit(
            actor=actor,
            action="products.category_upsert",
            object_type="products.category",
            after={
                "created": created,
                "updated": updated,
                "category_codes": [r.code for r in rows][:50],
            },
        )
    return Upserted(created, updated, len(rows) - created - updated)


def upsert_products(*, actor, rows: Sequence[ProductData]) -> Upserted:
    """Add or change foods by SKU, all or nothing; a category is named by its code and must
    exist. The same request twice changes nothing the second time."""
    _duplicates([r.sku for r in rows], "食品编码")
    category_codes = {r.category_code for r in rows if r.category_code}
    categories = dict(Category.objects.filter(code__in=category_codes).values_list("code", "id"))
    with transaction.atomic():
        existing = {
            p.sku: p
            for p in Product.objects.select_for_update().filter(sku__in=[r.sku for r in rows])
        }
        created: list[Product] = []
        changed: list[Product] = []
        now = timezone.now()
        for n, row in enumerate(rows, start=1):
            if row.category_code and row.category_code not in categories:
                raise _refuse(f"第{n}条：食品类别编码{row.category_code}不存在")
            product = existing.get(row.sku) or Product(sku=row.sku, created_at=now)
            price = to_money(row.price) if row.price is not None else None
            new = (
                row.name.strip(),
                categories.get(row.category_code),
                row.unit.strip(),
                price,
                row.enabled,
            )
            old = (product.name, product.category_id, product.unit, product.price, product.enabled)
            if product.pk and new == old:
                continue
            product.name, product.category_id, product.unit, product.price, product.enabled = new
            try:
                _check_product(product)
            except Refused as exc:
                raise _refuse(f"第{n}条：{exc.message}") from exc
            product.updated_at = now
            (changed if product.pk else created).append(product)
        # a food added meanwhile by another request: refused, the caller sends it again
        try:
            with transaction.atomic():
                Product.objects.bulk_create(created)
        except IntegrityError as exc:
            raise _refuse("食品编码：同时有其他请求新增了相同的食品，请重试", 409) from exc
        Product.objects.bulk_update(
            changed, ["name", "category", "unit", "price", "enabled", "updated_at"]
        )
        record_audit(
            actor=actor,
            action="products.product_upsert",
            object_type="products.product",
            after={
                "created": len(created),
                "updated": len(changed),
                "skus": [r.sku for r in rows][:50],
            },
        )
    return Upserted(len(created), len(changed), len(rows) - len(created) - len(changed))


# --- Excel import ---------------------------------------------------------------------------------


def start_product_import(*, actor, upload) -> ProductImport:
    """Keep the uploaded file and queue its import (nothing is written to the master yet)."""
    with transaction.atomic():
        imp = ProductImport(original_name=upload.name[:200], created_by=actor)
        imp.file.save(upload.name, upload, save=False)
        imp.save()
        imp.job = enqueue_job(
            kind="products.import",
            title=f"导入食品基础资料：{imp.original_name}",
            owner=actor,
            params={"import_id": imp.pk},
        )
        imp.save(update_fields=["job"])
        record_audit(actor=actor, action="products.import_start", obj=imp)
    return imp


HEADERS = ["食品编码", "食品名称", "食品类别编码", "单位", "售价"]
_STAGING = "product_import_rows"
_STAGING_COLUMNS = (
    "row_no integer NOT NULL",
    "sku text NOT NULL",
    "name text NOT NULL",
    "category_code text NOT NULL",
    "unit text NOT NULL",
    "price numeric(12, 2)",
    "problem text",  # why the row is bad on its own; NULL when it is not
)
_JUDGED_COLUMNS = (
    "dup_of integer",  # the earlier row of the same SKU
    "category_id bigint",
)
_MARK = f"""
    UPDATE {_STAGING} r SET dup_of = f.row_no
    FROM (
        SELECT sku, min(row_no) AS row_no FROM {_STAGING} WHERE problem IS NULL
        GROUP BY sku HAVING count(*) > 1
    ) f
    WHERE r.problem IS NULL AND r.sku = f.sku AND r.row_no > f.row_no;
    UPDATE {_STAGING} r SET category_id = c.id
    FROM {Category._meta.db_table} c WHERE r.category_code <> '' AND c.code = r.category_code;
    UPDATE {_STAGING} SET problem = '食品类别编码' || category_code || '不存在：请先新增该食品类别'
    WHERE problem IS NULL AND dup_of IS NULL AND category_code <> '' AND category_id IS NULL;
"""
_GOOD = "problem IS NULL AND dup_of IS NULL"
# Added or changed in one statement; xmax = 0 tells an inserted row from an updated one.
_UPSERT = f"""
    WITH up AS (
        INSERT INTO {Product._meta.db_table} AS p
            (sku, name, category_id, unit, price, enabled, created_at, updated_at)
        SELECT sku, name, category_id, unit, price, true, %(now)s, %(now)s
        FROM {_STAGING} WHERE {_GOOD} ORDER BY row_no
        ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name,
            category_id = EXCLUDED.category_id, unit = EXCLUDED.unit, price = EXCLUDED.price,
            updated_at = EXCLUDED.updated_at
        WHERE (p.name, p.category_id, p.unit, p.price)
            IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.category_id, EXCLUDED.unit, EXCLUDED.price)
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
"""
_BAD_ROWS = f"""
    SELECT row_no, sku, name, problem, dup_of FROM {_STAGING} WHERE NOT ({_GOOD}) ORDER BY row_no
"""


def _price(text: str) -> Decimal | None:
    text = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError from exc
    if not value.is_finite() or not (0 <= value <= MAX_PRICE):
        raise ValueError
    return to_money(value)


def _parse_rows(rows) -> Iterator[tuple]:
    """(row number, sku, name, category code, unit, price, problem) of each row of the file;
    the first row is the header (食品编码, 食品名称, 食品类别编码, 单位, 售价)."""
    for number, row in enumerate(rows, start=1):
        if number == 1:
            if not row or row[0].strip() != HEADERS[0]:
                raise Refused(
                    "import_refused", "第1行应为表头：" + "、".join(HEADERS) + "（单位、售价可空）"
                )
            continue
        if not any(cell.strip() for cell in row):
            continue
        cells = [c.strip().replace("\x00", "") for c in row] + [""] * 5
        sku, name, category_code, unit, price_text = cells[:5]
        problem, price = None, None
        if not CODE_RE.match(sku):
            problem = "食品编码：应为1～40位字母、数字、-、_或."
        elif not name:
            problem = "食品名称：必须填写"
        elif len(name) > 100:
            problem = "食品名称：最多100个字"
        elif category_code and not CODE_RE.match(category_code):
            problem = "食品类别编码格式不正确"
        elif len(unit) > 10:
            problem = "单位：最多10个字"
        else:
            try:
                price = _price(price_text)
            except ValueError:
                problem = "售价：应为0到99,999,999.99之间的金额"
        yield number, sku[:40], name[:100], category_code[:30], unit[:10], price, problem


def _error_rows() -> Iterator[tuple]:
    for row_no, sku, name, problem, dup_of in staging.stream_rows(_BAD_ROWS):
        reason = problem or f"文件内重复：与第{dup_of}行的食品编码相同"
        yield row_no, sku, name, reason


def run_product_import(
    imp: ProductImport,
    *,
    rows,
    write_errors: Callable[[Callable[[object], int]], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ProductImport:
    """Add or update the good rows of the file in one transaction; every bad row (its own
    problem, a SKU repeated in the file, an unknown category) goes to the error file, written by
    `write_errors(write)` while the staged rows are still there. A file without a good row still
    reports its bad ones."""
    if imp.done:
        return imp
    with transaction.atomic():
        total = staging.stage_rows(
            table=_STAGING,
            columns=_STAGING_COLUMNS,
            later_columns=_JUDGED_COLUMNS,
            records=_parse_rows(rows),
            after_chunk=progress,
        )
        if total == 0:
            raise Refused("import_refused", "文件中没有食品资料")
        with connection.cursor() as cursor:
            cursor.execute(_MARK)
            cursor.execute(f"SELECT count(*) FROM {_STAGING} WHERE NOT ({_GOOD})")
            (invalid,) = cursor.fetchone()
            cursor.execute(_UPSERT, {"now": timezone.now()})
            created, updated = cursor.fetchone()
        if invalid and write_errors is not None:
            write_errors(
                lambda fh: write_csv(
                    fh, headers=["行号", "食品编码", "食品名称", "原因"], rows=_error_rows()
                )
            )
        staging.drop_staging(_STAGING)
        ProductImport.objects.filter(pk=imp.pk).update(
            total_rows=total,
            created_count=created,
            updated_count=updated,
            invalid_count=invalid,
            done=True,
        )
        record_audit(
            actor=imp.created_by,
            action="products.import",
            obj=imp,
            after={"rows": total, "created": created, "updated": updated, "invalid_rows": invalid},
        )
    imp.refresh_from_db()
    return imp
