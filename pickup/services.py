"""Every write of the pickup app: one transaction and one audit entry each."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.codes import DIGITS, LETTERS, MIXED, ensure_code_space, random_strings
from couponhub.core.crypto import encrypt_many
from couponhub.core.jobs import enqueue_job
from pickup.models import (
    CardType,
    CardTypeItem,
    CodeBatch,
    CodeFormat,
    ExportRecord,
    ImportRecord,
    PickupCode,
    PickupSettings,
    Product,
    SpecAttribute,
    SpecValue,
)

ALPHABETS = {CodeFormat.DIGITS: DIGITS, CodeFormat.LETTERS: LETTERS, CodeFormat.MIXED: MIXED}
CHUNK_SIZE = 5_000
MAX_QUANTITY = 10_000_000
CODE_RE = re.compile(r"^[A-Z0-9]{4,40}$")


class PickupError(ValueError):
    """A refused pickup action; the message is Chinese and names what is wrong."""


def _action(obj: models.Model, verb: str) -> str:
    return f"pickup.{obj._meta.model_name}.{verb}"


# ---------------------------------------------------------------------------
# Plain records: settings, stores, couriers, catalogue, card types
# ---------------------------------------------------------------------------


def save_record(
    *, actor, instance: models.Model, m2m: dict[str, Iterable] | None = None
) -> models.Model:
    """Create or update one record (already validated by its form), with before/after audit."""
    with transaction.atomic():
        creating = instance.pk is None or not type(instance).objects.filter(pk=instance.pk).exists()
        before = None
        if not creating:
            before = snapshot(type(instance).objects.get(pk=instance.pk))
        instance.save()
        after = snapshot(instance)
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
            after[name] = sorted(v.pk for v in getattr(instance, name).all())
        record_audit(
            actor=actor,
            action=_action(instance, "create" if creating else "update"),
            obj=instance,
            before=before,
            after=after,
            org=getattr(instance, "store", None),
        )
    return instance


_IN_USE = {
    "product": "该产品正被卡券使用，不能删除：{users}。请先从这些卡券中移除该产品。",
    "category": "该类别下还有产品，不能删除：{users}。",
    "brand": "该品牌下还有产品，不能删除：{users}。",
    "cardtype": "该卡券已有提货码批次，不能删除。可以将其停用。",
    "pickupstore": "该门店正被卡券使用，不能删除：{users}。可以关闭其提货功能。",
}


def _users_of(error: ProtectedError) -> str:
    names = []
    for obj in list(error.protected_objects)[:5]:
        names.append(str(getattr(obj, "card_type", obj)))
    return "、".join(dict.fromkeys(names))


def delete_record(*, actor, instance: models.Model) -> None:
    """Delete one record; refused with a clear message when something still uses it."""
    name = instance._meta.model_name
    if name == "pickupstore" and instance.card_types.exists():
        users = "、".join(str(c) for c in instance.card_types.all()[:5])
        raise PickupError(_IN_USE[name].format(users=users))
    try:
        with transaction.atomic():
            before = snapshot(instance)
            pk, text = instance.pk, str(instance)
            instance.delete()
            record_audit(
                actor=actor,
                action=_action(instance, "delete"),
                object_type=instance._meta.label_lower,
                object_id=str(pk),
                object_repr=text,
                before=before,
            )
    except ProtectedError as exc:
        message = _IN_USE.get(name, "该记录正被使用，不能删除：{users}。")
        raise PickupError(message.format(users=_users_of(exc))) from exc


def _copy_name(model, name: str, max_length: int) -> str:
    for n in range(1, 100):
        suffix = "（复制）" if n == 1 else f"（复制{n}）"
        candidate = name[: max_length - len(suffix)] + suffix
        if not model.objects.filter(name=candidate).exists():
            return candidate
    raise PickupError("复制的名称已全部被占用，请先重命名现有的副本")


def copy_product(*, actor, product: Product) -> Product:
    with transaction.atomic():
        specs = list(product.spec_values.all())
        source_pk = product.pk
        copy = Product.objects.get(pk=source_pk)
        copy.pk = None
        copy.name = _copy_name(Product, product.name, 100)
        copy.created_at = timezone.now()
        copy.save()
        copy.spec_values.set(specs)
        record_audit(
            actor=actor,
            action="pickup.product.copy",
            obj=copy,
            after=snapshot(copy),
            note=f"复制自产品 {source_pk}",
        )
    return copy


def save_card_type(
    *, actor, card_type: CardType, items: list[tuple[Product, int]], stores
) -> CardType:
    """Save a card type with its products (product, quantity) and allowed stores."""
    if not items:
        raise PickupError("卡券至少需要一个产品")
    if card_type.selection == CardType.Selection.CHOOSE and card_type.choose_count > len(items):
        raise PickupError(
            f"可选产品数量：需选{card_type.choose_count}件，但列表中只有{len(items)}件产品"
        )
    with transaction.atomic():
        creating = card_type.pk is None
        before = None if creating else _card_type_snapshot(CardType.objects.get(pk=card_type.pk))
        card_type.save()
        card_type.stores.set(stores)
        card_type.items.exclude(product__in=[p for p, _q in items]).delete()
        for order, (product, quantity) in enumerate(items):
            CardTypeItem.objects.update_or_create(
                card_type=card_type,
                product=product,
                defaults={"quantity": quantity, "sort_order": order},
            )
        record_audit(
            actor=actor,
            action=_action(card_type, "create" if creating else "update"),
            obj=card_type,
            before=before,
            after=_card_type_snapshot(card_type),
        )
    return card_type


def _card_type_snapshot(card_type: CardType) -> dict:
    data = snapshot(card_type)
    data["items"] = [[i.product_id, i.quantity] for i in card_type.items.all()]
    data["stores"] = sorted(card_type.stores.values_list("pk", flat=True))
    return data


def copy_card_type(*, actor, card_type: CardType) -> CardType:
    with transaction.atomic():
        items = list(card_type.items.all())
        stores = list(card_type.stores.all())
        source_pk = card_type.pk
        copy = CardType.objects.get(pk=source_pk)
        copy.pk = None
        copy.name = _copy_name(CardType, card_type.name, 60)
        copy.created_at = timezone.now()
        copy.save()
        copy.stores.set(stores)
        CardTypeItem.objects.bulk_create(
            CardTypeItem(
                card_type=copy,
                product_id=i.product_id,
                quantity=i.quantity,
                sort_order=i.sort_order,
            )
            for i in items
        )
        record_audit(
            actor=actor,
            action="pickup.cardtype.copy",
            obj=copy,
            after=_card_type_snapshot(copy),
            note=f"复制自卡券 {source_pk}",
        )
    return copy


def save_spec_attribute(*, actor, attribute: SpecAttribute, values: list[str]) -> SpecAttribute:
    """Save an attribute and its list of values: new ones added, missing ones removed."""
    with transaction.atomic():
        creating = attribute.pk is None
        before = None
        if not creating:
            before = snapshot(SpecAttribute.objects.get(pk=attribute.pk))
            before["values"] = list(attribute.values.values_list("value", flat=True))
        attribute.save()
        attribute.values.exclude(value__in=values).delete()
        for order, value in enumerate(values):
            SpecValue.objects.update_or_create(
                attribute=attribute, value=value, defaults={"sort_order": order}
            )
        after = snapshot(attribute)
        after["values"] = values
        record_audit(
            actor=actor,
            action=_action(attribute, "create" if creating else "update"),
            obj=attribute,
            before=before,
            after=after,
        )
    return attribute


def save_settings(*, actor, instance: PickupSettings, logo_bytes: bytes | None = None) -> None:
    from django.core.files.base import ContentFile

    with transaction.atomic():
        before = snapshot(PickupSettings.load())
        if logo_bytes is not None:
            instance.logo.save(
                f"logo-{timezone.now():%Y%m%d%H%M%S}.png", ContentFile(logo_bytes), save=False
            )
        instance.save()
        record_audit(
            actor=actor,
            action="pickup.settings.update",
            obj=instance,
            before=before,
            after=snapshot(instance),
        )


# ---------------------------------------------------------------------------
# Serial numbers
# ---------------------------------------------------------------------------


def reserve_serials(quantity: int) -> int:
    """Reserve `quantity` consecutive serial numbers; return the first. Call inside atomic()."""
    PickupSettings.load()
    settings_row = PickupSettings.objects.select_for_update().get(pk=PickupSettings.SINGLETON_PK)
    start = settings_row.next_serial
    settings_row.next_serial = start + quantity
    settings_row.save(update_fields=["next_serial"])
    return start


# ---------------------------------------------------------------------------
# Batch generation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationSpec:
    quantity: int
    prefix: str = ""
    code_length: int = 12
    code_format: str = CodeFormat.MIXED
    password_length: int = 8
    password_format: str = CodeFormat.DIGITS


def check_generation(spec: GenerationSpec) -> str:
    """Refuse a request that cannot be served safely; return the code-space verdict."""
    if not 1 <= spec.quantity <= MAX_QUANTITY:
        raise PickupError(f"生成数量：须在1～{MAX_QUANTITY:,}之间")
    if spec.prefix and not re.fullmatch(r"[A-Z0-9]{1,10}", spec.prefix):
        raise PickupError("提货码前缀：只能是1～10位大写字母或数字")
    if spec.code_format not in ALPHABETS or spec.password_format not in ALPHABETS:
        raise PickupError("格式：只能是纯数字、纯字母或数字字母混合")
    if not 6 <= spec.code_length <= 30:
        raise PickupError("提货码长度：随机部分须为6～30位")
    if not 4 <= spec.password_length <= 20:
        raise PickupError("密码长度：须为4～20位")
    existing = sum(
        CodeBatch.objects.filter(
            prefix=spec.prefix,
            code_length=spec.code_length,
            code_format=spec.code_format,
            source=CodeBatch.Source.GENERATED,
        ).values_list("quantity", flat=True)
    )
    try:
        verdict = ensure_code_space(
            alphabet_size=len(ALPHABETS[spec.code_format]),
            length=spec.code_length,
            quantity=spec.quantity,
            existing=existing,
        )
    except ValueError as exc:
        raise PickupError(f"提货码长度：{exc}") from exc
    return verdict.reason


def create_code_batch(
    *, actor, card_type: CardType, spec: GenerationSpec, background: bool = True
) -> CodeBatch:
    """Register a batch and reserve its serial range; the codes are made by fill_code_batch,
    in a background job (background=True) or by the caller (the management command)."""
    verdict = check_generation(spec)
    with transaction.atomic():
        start = reserve_serials(spec.quantity)
        batch = CodeBatch.objects.create(
            card_type=card_type,
            source=CodeBatch.Source.GENERATED,
            prefix=spec.prefix,
            code_length=spec.code_length,
            code_format=spec.code_format,
            password_length=spec.password_length,
            password_format=spec.password_format,
            quantity=spec.quantity,
            serial_start=start,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if background:
            batch.job = enqueue_job(
                kind="pickup.generate_codes",
                title=f"生成提货码：{card_type.name} × {spec.quantity:,}（批次{batch.pk}）",
                owner=batch.created_by,
                params={"batch_id": batch.pk},
                total=spec.quantity,
            )
            batch.save(update_fields=["job"])
        record_audit(
            actor=actor,
            action="pickup.codebatch.create",
            obj=batch,
            after=snapshot(batch),
            note=verdict,
        )
    return batch


CodeRow = tuple[int, str, str, int, int]  # serial, code, plaintext password, card type, batch


def _insert_codes(rows: list[CodeRow]) -> None:
    """Insert, skipping rows whose serial or code already exists (the caller recounts)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy_insert(rows)
    else:
        PickupCode.objects.bulk_create(
            [
                PickupCode(serial=s, code=c, password=p, card_type_id=ct, batch_id=b)
                for s, c, p, ct, b in rows
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )


_COPY_COLUMNS = (
    "serial",
    "code",
    "password",
    "card_type_id",
    "batch_id",
    "status",
    "enabled",
    "shipped",
    "picked_up",
    "red_packet_amount",
)


def _copy_insert(rows: list[CodeRow]) -> None:
    """PostgreSQL: COPY straight into the table; if a row collides (a serial stored by an
    interrupted run, or a code taken meanwhile), redo the chunk through a temporary table with
    INSERT … ON CONFLICT DO NOTHING. Called inside the chunk's transaction."""
    table = PickupCode._meta.db_table
    cols = ", ".join(_COPY_COLUMNS)
    tokens = encrypt_many([r[2] for r in rows])
    records = [
        (serial, code, token, card_type_id, batch_id, "unused", True, False, False, 0)
        for (serial, code, _p, card_type_id, batch_id), token in zip(rows, tokens, strict=True)
    ]
    with connection.cursor() as cursor:
        # A crash may lose the last chunks committed this way; the runner regenerates whatever
        # is missing on its next run, so durability of each chunk is not needed.
        cursor.execute("SET LOCAL synchronous_commit = off")
        import psycopg

        try:
            with (
                transaction.atomic(),
                cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                for record in records:
                    copy.write_row(record)
            return
        except (IntegrityError, psycopg.IntegrityError):
            pass
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS pickup_code_load ON COMMIT DELETE ROWS "
            f"AS SELECT {cols} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY pickup_code_load ({cols}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM pickup_code_load "
            f"ON CONFLICT DO NOTHING"
        )
        cursor.execute("TRUNCATE pickup_code_load")


def fill_code_batch(
    batch: CodeBatch,
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Generate the codes of `batch` until each serial of its range has one. Resumable: what is
    already stored is kept, so a re-run after a crash ends with exactly `batch.quantity` codes.
    Returns how many codes this call inserted."""
    code_alphabet = ALPHABETS[batch.code_format]
    password_alphabet = ALPHABETS[batch.password_format]
    first, end = batch.serial_start, batch.serial_start + batch.quantity
    before = PickupCode.objects.filter(batch=batch).count()
    for chunk_start in range(first, end, chunk_size):
        chunk_end = min(chunk_start + chunk_size, end)
        for _attempt in range(50):
            present = set(
                PickupCode.objects.filter(
                    serial__gte=chunk_start, serial__lt=chunk_end
                ).values_list("serial", flat=True)
            )
            missing = [s for s in range(chunk_start, chunk_end) if s not in present]
            if not missing:
                break
            bodies = random_strings(len(missing), batch.code_length, code_alphabet)
            passwords = random_strings(len(missing), batch.password_length, password_alphabet)
            rows = [
                (serial, batch.prefix + body, password, batch.card_type_id, batch.pk)
                for serial, body, password in zip(missing, bodies, passwords, strict=True)
            ]
            with transaction.atomic():
                _insert_codes(rows)
        else:
            raise RuntimeError("提货码反复冲突，码空间可能已接近饱和")
        if progress is not None:
            progress(chunk_end - first, batch.quantity)
    stored = PickupCode.objects.filter(batch=batch).count()
    if stored != batch.quantity:
        raise RuntimeError(f"批次{batch.pk}应有{batch.quantity}个提货码，实际{stored}个")
    return stored - before


# ---------------------------------------------------------------------------
# Batch modify / delete
# ---------------------------------------------------------------------------


class BatchAction(models.TextChoices):
    CHANGE_CARD_TYPE = "change_card_type", _("switch card type")
    ENABLE = "enable", _("enable")
    DISABLE = "disable", _("disable")
    DELETE = "delete", _("delete (never-used codes only)")


def batch_modify_codes(
    *, actor, selection: dict, action: str, card_type: CardType | None = None
) -> dict:
    """Apply one action to every selected code in one transaction with one audit entry.

    Used codes keep their card type and are never deleted: they are skipped and counted."""
    from pickup.selectors import describe_selection, select_codes

    if not any(v not in (None, "") for v in selection.values()):
        raise PickupError("筛选条件：批量操作至少需要一个条件（流水号段、批次、卡券或生成日期）")
    if action == BatchAction.CHANGE_CARD_TYPE and card_type is None:
        raise PickupError("新卡券：切换所属卡券时必须选择新的卡券")
    with transaction.atomic():
        codes = select_codes(selection)
        matched = codes.count()
        unused = codes.filter(status=PickupCode.Status.UNUSED)
        skipped = 0
        if action == BatchAction.CHANGE_CARD_TYPE:
            changed = unused.update(card_type=card_type)
            skipped = matched - changed
        elif action in (BatchAction.ENABLE, BatchAction.DISABLE):
            changed = codes.update(enabled=action == BatchAction.ENABLE)
        elif action == BatchAction.DELETE:
            # status is checked on the deleted rows themselves, so a code used meanwhile stays
            changed = PickupCode.objects.filter(
                pk__in=unused.values("pk"), status=PickupCode.Status.UNUSED
            ).delete()[0]
            skipped = matched - changed
        else:
            raise PickupError("操作：未知的批量操作")
        counts = {"matched": matched, "changed": changed, "skipped_used": skipped}
        record_audit(
            actor=actor,
            action=f"pickup.pickupcode.batch_{action}",
            object_type="pickup.pickupcode",
            object_repr=describe_selection(selection)[:200],
            before={"selection": selection},
            after={
                **counts,
                "card_type": card_type.pk if card_type else None,
            },
            note=f"匹配{matched}个，处理{changed}个，跳过已使用{skipped}个",
        )
    return counts


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def start_code_import(*, actor, card_type: CardType, upload) -> ImportRecord:
    """Keep the uploaded file and queue its import."""
    with transaction.atomic():
        record = ImportRecord(
            card_type=card_type,
            original_name=upload.name[:200],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record.original_file.save(upload.name, upload, save=False)
        record.save()
        record.job = enqueue_job(
            kind="pickup.import_codes",
            title=f"导入提货码：{record.original_name}",
            owner=record.created_by,
            params={"import_id": record.pk},
        )
        record.save(update_fields=["job"])
        record_audit(
            actor=actor, action="pickup.importrecord.create", obj=record, after=snapshot(record)
        )
    return record


HEADER_WORDS = {"提货码", "卡号", "code", "券码", "兑换码"}


def _parse_import(rows) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]], int]:
    """(valid rows, errors, total data rows); errors are (row number, code, reason)."""
    valid: list[tuple[int, str, str]] = []
    errors: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    total = 0
    for number, row in enumerate(rows, start=1):
        if number == 1 and row:
            first = row[0].strip().lower()
            if first in HEADER_WORDS:
                if len(row) < 2:
                    raise PickupError("列不正确：第一列应为提货码，第二列应为密码")
                continue
            if not (first.isascii() and first.isalnum()):
                raise PickupError("列不正确：第一列应为提货码，第二列应为密码（第1行无法识别）")
        if not row:
            continue
        total += 1
        code = row[0].strip().upper()
        password = row[1].strip() if len(row) > 1 else ""
        if len(row) > 2 and any(cell for cell in row[2:]):
            errors.append((number, code, "列数不正确：只应有提货码和密码两列"))
        elif not CODE_RE.match(code):
            errors.append((number, code, "提货码格式不正确：应为4～40位字母或数字"))
        elif not password:
            errors.append((number, code, "密码为空"))
        elif len(password) > 40 or not password.isprintable():
            errors.append((number, code, "密码格式不正确：最多40位可见字符"))
        elif code in seen:
            errors.append((number, code, f"文件内重复：与第{seen[code]}行相同"))
        else:
            seen[code] = number
            valid.append((number, code, password))
    return valid, errors, total


def run_code_import(record: ImportRecord) -> ImportRecord:
    """Import the valid rows of the file in one transaction; report every bad row."""
    from couponhub.core.spreadsheets import SpreadsheetError, read_rows

    if record.status == ImportRecord.Status.DONE:
        return record
    try:
        with record.original_file.open("rb") as fh:
            valid, errors, total = _parse_import(read_rows(fh, filename=record.original_name))
        if total == 0:
            raise PickupError("文件中没有提货码")
    except (SpreadsheetError, PickupError) as exc:
        record.status = ImportRecord.Status.FAILED
        record.error = str(exc)[:500]
        record.save(update_fields=["status", "error"])
        return record
    try:
        return _store_import(record, valid, errors, total)
    except PickupError as exc:
        record.status = ImportRecord.Status.FAILED
        record.error = str(exc)[:500]
        record.save(update_fields=["status", "error"])
        return record


def _store_import(record, valid, errors, total) -> ImportRecord:
    duplicates = 0
    with transaction.atomic():
        batch = None
        if valid:
            start = reserve_serials(len(valid))
            batch = CodeBatch.objects.create(
                card_type=record.card_type,
                source=CodeBatch.Source.IMPORTED,
                quantity=len(valid),
                serial_start=start,
                created_by=record.created_by,
                note=f"导入：{record.original_name}"[:200],
            )
        stored = 0
        next_serial = batch.serial_start if batch else 0
        for i in range(0, len(valid), CHUNK_SIZE):
            chunk = valid[i : i + CHUNK_SIZE]
            taken = set(
                PickupCode.objects.filter(code__in=[c for _n, c, _p in chunk]).values_list(
                    "code", flat=True
                )
            )
            rows = []
            for number, code, password in chunk:
                if code in taken:
                    errors.append((number, code, "与系统中已有的提货码重复"))
                    duplicates += 1
                    continue
                rows.append((next_serial, code, password, record.card_type_id, batch.pk))
                next_serial += 1
            _insert_codes(rows)
            stored = PickupCode.objects.filter(batch=batch).count()
            if stored != next_serial - batch.serial_start:
                # Another import stored one of these codes meanwhile: take nothing.
                raise PickupError("导入期间有相同的提货码被同时写入，请重新导入")
        if batch is not None:
            if stored == 0:
                batch.delete()
                batch = None
            elif stored != batch.quantity:
                batch.quantity = stored
                batch.save(update_fields=["quantity"])
        record.batch = batch
        record.total_rows = total
        record.imported = stored
        record.duplicates = duplicates + sum(1 for e in errors if e[2].startswith("文件内重复"))
        record.invalid = len(errors) - record.duplicates
        record.status = ImportRecord.Status.DONE
        if errors:
            _attach_error_file(record, errors)
        record.save()
        record_audit(
            actor=record.created_by,
            action="pickup.importrecord.import",
            obj=record,
            after={
                "imported": record.imported,
                "duplicates": record.duplicates,
                "invalid": record.invalid,
                "batch": batch.pk if batch else None,
            },
        )
    return record


def _attach_error_file(record: ImportRecord, errors: list[tuple[int, str, str]]) -> None:
    import io

    from django.core.files.base import ContentFile

    from couponhub.core.spreadsheets import write_csv

    buffer = io.BytesIO()
    write_csv(
        buffer,
        headers=["行号", "提货码", "原因"],
        rows=sorted(errors, key=lambda e: e[0]),
    )
    record.error_file.save(
        f"import-{record.pk}-errors.csv", ContentFile(buffer.getvalue()), save=False
    )


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def start_code_export(
    *, actor, selection: dict, columns: list[str], file_format: str, base_url: str = ""
) -> ExportRecord:
    from pickup.selectors import EXPORT_COLUMNS, describe_selection, select_codes

    columns = [c for c in columns if c in EXPORT_COLUMNS]
    if not columns:
        raise PickupError("导出内容：至少选择一列")
    if file_format not in ExportRecord.Format.values:
        raise PickupError("导出格式：只能是xlsx或csv")
    total = select_codes(selection).count()
    if total == 0:
        raise PickupError("筛选条件：没有符合条件的提货码")
    with transaction.atomic():
        record = ExportRecord.objects.create(
            selection=selection,
            columns=columns,
            file_format=file_format,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record.job = enqueue_job(
            kind="pickup.export_codes",
            title=f"导出提货码：{describe_selection(selection)}"[:200],
            owner=record.created_by,
            params={"export_id": record.pk, "base_url": base_url},
            total=total,
        )
        record.save(update_fields=["job"])
        record_audit(
            actor=actor,
            action="pickup.exportrecord.create",
            obj=record,
            after={
                "selection": selection,
                "columns": columns,
                "format": file_format,
                "rows": total,
            },
        )
    return record
