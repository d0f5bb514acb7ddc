"""Every write of the pickup app: one transaction and one audit entry each."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat

import psycopg
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.codes import (
    DIGITS,
    LETTERS,
    MIXED,
    CodeSpaceTooSmall,
    ensure_code_space,
    random_strings,
)
from couponhub.core.crypto import encrypt
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job
from couponhub.core.money import to_money
from pickup.models import (
    CardType,
    CardTypeItem,
    CodeBatch,
    CodeFormat,
    Courier,
    ExportRecord,
    ImportRecord,
    PasswordAttempt,
    PickupCode,
    PickupOrder,
    PickupOrderItem,
    PickupSettings,
    PickupStore,
    Product,
    RedPacketAccount,
    RedPacketClaim,
    RedPacketEntry,
    RedPacketPayout,
    RedPacketSettings,
    SpecAttribute,
    SpecValue,
)

ALPHABETS = {CodeFormat.DIGITS: DIGITS, CodeFormat.LETTERS: LETTERS, CodeFormat.MIXED: MIXED}
CHUNK_SIZE = 5_000
GENERATION_CHUNK_SIZE = 20_000
MAX_QUANTITY = 10_000_000
CODE_RE = re.compile(r"^[A-Z0-9]{4,40}$")


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
        raise Refused("pickup_refused", _IN_USE[name].format(users=users))
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
        raise Refused("pickup_refused", message.format(users=_users_of(exc))) from exc


def _copy_name(model, name: str, max_length: int) -> str:
    for n in range(1, 100):
        suffix = "（复制）" if n == 1 else f"（复制{n}）"
        candidate = name[: max_length - len(suffix)] + suffix
        if not model.objects.filter(name=candidate).exists():
            return candidate
    raise Refused("pickup_refused", "复制的名称已全部被占用，请先重命名现有的副本")


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
        raise Refused("pickup_refused", "卡券至少需要一个产品")
    if card_type.selection == CardType.Selection.CHOOSE and card_type.choose_count > len(items):
        raise Refused(
            "pickup_refused",
            f"可选产品数量：需选{card_type.choose_count}件，但列表中只有{len(items)}件产品",
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
        raise Refused("pickup_refused", f"生成数量：须在1～{MAX_QUANTITY:,}之间")
    if spec.prefix and not re.fullmatch(r"[A-Z0-9]{1,10}", spec.prefix):
        raise Refused("pickup_refused", "提货码前缀：只能是1～10位大写字母或数字")
    if spec.code_format not in ALPHABETS or spec.password_format not in ALPHABETS:
        raise Refused("pickup_refused", "格式：只能是纯数字、纯字母或数字字母混合")
    if not 6 <= spec.code_length <= 30:
        raise Refused("pickup_refused", "提货码长度：随机部分须为6～30位")
    if not 4 <= spec.password_length <= 20:
        raise Refused("pickup_refused", "密码长度：须为4～20位")
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
    except CodeSpaceTooSmall as exc:
        raise Refused("pickup_refused", f"提货码长度：{exc}") from exc
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


# serial, code, password token (encrypted), card type, batch: the columns a new code sets
CodeRecord = tuple[int, str, str, int, int]

_NEW_CODE_COLUMNS = (
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
_NEW_CODE_DEFAULTS = ("unused", True, False, False, 0)
# After a batch this large, the table's planner statistics are refreshed (ANALYZE), so the
# list and export queries that follow are planned on the new rows.
ANALYZE_AFTER = 100_000


def code_records(
    serials: Iterable[int], codes: Iterable[str], passwords: list[str], card_type_id, batch_id
) -> list[CodeRecord]:
    """New codes as rows to store, each password sealed with crypto.encrypt (the costly part)."""
    tokens = [encrypt(p) for p in passwords]
    return list(zip(serials, codes, tokens, repeat(card_type_id), repeat(batch_id), strict=False))


def _store_codes(records: list[CodeRecord]) -> int:
    """Insert, skipping rows whose serial or code already exists; return how many were stored.
    Called inside the caller's transaction."""
    if not records:
        return 0
    table = PickupCode._meta.db_table
    cols = ", ".join(_NEW_CODE_COLUMNS)
    with connection.cursor() as cursor:
        try:
            with (
                transaction.atomic(),
                cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                for record in records:
                    copy.write_row((*record, *_NEW_CODE_DEFAULTS))
            return len(records)
        except (IntegrityError, psycopg.IntegrityError):
            pass
        # A serial stored by an interrupted run, or a code taken meanwhile: load the rows
        # beside the table and keep those that do not collide.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS pickup_code_load ON COMMIT DELETE ROWS "
            f"AS SELECT {cols} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY pickup_code_load ({cols}) FROM STDIN") as copy:
            for record in records:
                copy.write_row((*record, *_NEW_CODE_DEFAULTS))
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM pickup_code_load "
            f"ON CONFLICT DO NOTHING"
        )
        stored = cursor.rowcount
        cursor.execute("TRUNCATE pickup_code_load")
        return stored


def fill_code_batch(
    batch: CodeBatch,
    *,
    chunk_size: int = GENERATION_CHUNK_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Generate the codes of `batch` until each serial of its range has one. Resumable: each
    chunk is its own transaction (outside a caller's), so what is already stored is kept and a
    re-run after a crash ends with exactly `batch.quantity` codes. Returns how many codes this
    call inserted.

    Everything is stored on this thread's connection. Making a chunk (random codes, sealed
    passwords) is Python's work: one helper thread makes the next chunk while this one is
    stored. The helper never touches the database."""
    code_alphabet = ALPHABETS[batch.code_format]
    password_alphabet = ALPHABETS[batch.password_format]

    def make(serials: list[int]) -> list[CodeRecord]:
        bodies = random_strings(len(serials), batch.code_length, code_alphabet)
        passwords = random_strings(len(serials), batch.password_length, password_alphabet)
        codes = [batch.prefix + body for body in bodies]
        return code_records(serials, codes, passwords, batch.card_type_id, batch.pk)

    first, end = batch.serial_start, batch.serial_start + batch.quantity
    before = PickupCode.objects.filter(batch=batch).count()
    chunks = [range(lo, min(lo + chunk_size, end)) for lo in range(first, end, chunk_size)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pickup-codes") as maker:
        upcoming = maker.submit(make, list(chunks[0])) if chunks else None
        for i, serials in enumerate(chunks):
            records = upcoming.result()
            if i + 1 < len(chunks):
                upcoming = maker.submit(make, list(chunks[i + 1]))
            _fill_chunk(serials, records, make)
            if progress is not None:
                progress(serials.stop - first, batch.quantity)
    stored = PickupCode.objects.filter(batch=batch).count()
    if stored != batch.quantity:
        raise RuntimeError(f"批次{batch.pk}应有{batch.quantity}个提货码，实际{stored}个")
    if batch.quantity >= ANALYZE_AFTER:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {PickupCode._meta.db_table}")
    return stored - before


def _fill_chunk(serials: range, records: list[CodeRecord], make) -> None:
    """Store codes for every serial of `serials` not stored yet (a re-run finds some stored),
    in one transaction; a code that collides with one stored meanwhile is made again."""
    with transaction.atomic():
        for _attempt in range(50):
            present = set(
                PickupCode.objects.filter(
                    serial__gte=serials.start, serial__lt=serials.stop
                ).values_list("serial", flat=True)
            )
            missing = [s for s in serials if s not in present]
            if not missing:
                return
            if present:
                records = [r for r in records if r[0] not in present]
            if _store_codes(records) == len(records) == len(missing):
                return
            records = make(missing)
        raise RuntimeError("提货码反复冲突，码空间可能已接近饱和")


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
        raise Refused(
            "pickup_refused", "筛选条件：批量操作至少需要一个条件（流水号段、批次、卡券或生成日期）"
        )
    if action == BatchAction.CHANGE_CARD_TYPE and card_type is None:
        raise Refused("pickup_refused", "新卡券：切换所属卡券时必须选择新的卡券")
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
            # Never used: no order ever (a cancelled order gives the code back but keeps its
            # row) and no red-packet claim. One DELETE: the foreign keys to the code are
            # DO_NOTHING for Django (the database's constraint still guards them).
            changed = (
                PickupCode.objects.filter(
                    pk__in=unused.values("pk"), status=PickupCode.Status.UNUSED
                )
                .exclude(pk__in=PickupOrder.objects.values("code_id"))
                .exclude(pk__in=RedPacketClaim.objects.values("code_id"))
                .filter(red_packet_amount=0)  # a reserved red packet is cleared first
                .delete()[0]
            )
            skipped = matched - changed
        else:
            raise Refused("pickup_refused", "操作：未知的批量操作")
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
                    raise Refused("pickup_refused", "列不正确：第一列应为提货码，第二列应为密码")
                continue
            if not (first.isascii() and first.isalnum()):
                raise Refused(
                    "pickup_refused", "列不正确：第一列应为提货码，第二列应为密码（第1行无法识别）"
                )
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
            raise Refused("pickup_refused", "文件中没有提货码")
    except (SpreadsheetError, Refused) as exc:
        record.status = ImportRecord.Status.FAILED
        record.error = str(exc)[:500]
        record.save(update_fields=["status", "error"])
        return record
    try:
        return _store_import(record, valid, errors, total)
    except Refused as exc:
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
            codes, passwords = [], []
            for number, code, password in chunk:
                if code in taken:
                    errors.append((number, code, "与系统中已有的提货码重复"))
                    duplicates += 1
                    continue
                codes.append(code)
                passwords.append(password)
            serials = range(next_serial, next_serial + len(codes))
            next_serial = serials.stop
            _store_codes(code_records(serials, codes, passwords, record.card_type_id, batch.pk))
            stored = PickupCode.objects.filter(batch=batch).count()
            if stored != next_serial - batch.serial_start:
                # Another import stored one of these codes meanwhile: take nothing.
                raise Refused("pickup_refused", "导入期间有相同的提货码被同时写入，请重新导入")
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
        raise Refused("pickup_refused", "导出内容：至少选择一列")
    if file_format not in ExportRecord.Format.values:
        raise Refused("pickup_refused", "导出格式：只能是xlsx或csv")
    total = select_codes(selection).count()
    if total == 0:
        raise Refused("pickup_refused", "筛选条件：没有符合条件的提货码")
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


# ---------------------------------------------------------------------------
# Consumers: code + password check, rate-limited per code and per client address
# ---------------------------------------------------------------------------

LOCK_MINUTES = 15
MAX_CODE_FAILURES = 5
MAX_IP_FAILURES = 20
_COUNTING = (PasswordAttempt.Outcome.PENDING, PasswordAttempt.Outcome.FAILED)

LOCKED_MESSAGE = "输入错误次数过多，请15分钟后再试"
WRONG_MESSAGE = "提货码或密码错误，请核对后重新输入"


@dataclass(frozen=True)
class CodeCheck:
    """The answer to a code + password check. `reason` is one of: ok, missing, locked, wrong,
    disabled, used, expired, not_yet. Only ok lets the consumer go on."""

    reason: str
    message: str = ""
    code: PickupCode | None = None

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


def normalise_code(text: str) -> str:
    return re.sub(r"[\s-]+", "", text or "").upper()[:40]


def code_problem(code: PickupCode, today=None) -> tuple[str, str] | None:
    """Why this code cannot be used now (reason, Chinese message), or None."""
    today = today or timezone.localdate()
    card_type = code.card_type
    if not code.enabled or not card_type.is_active:
        return "disabled", "该提货码已停用，无法提货。如有疑问请联系客服"
    if code.status == PickupCode.Status.USED:
        return (
            "used",
            "该提货码已使用，不能重复提货。已下单的用户可凭订单号和手机号查询订单",
        )
    if card_type.valid_until and today > card_type.valid_until:
        until = f"{card_type.valid_until:%Y年%m月%d日}"
        return "expired", f"该提货码已过期（有效期至{until}），无法提货"
    if card_type.valid_from and today < card_type.valid_from:
        return "not_yet", f"该提货码{card_type.valid_from:%Y年%m月%d日}起才能提货"
    return None


def _lock_code_key(code: str) -> None:
    """Serialise the attempts on one code (a transaction-scoped advisory lock), so a burst of
    guesses counts every earlier guess."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", [code])


def _begin_attempt(key: str, client_ip: str) -> PasswordAttempt | None:
    """Record a try on `key` (a code, or "#" + an order number); None when it is locked."""
    now = timezone.now()
    since = now - dt.timedelta(minutes=LOCK_MINUTES)
    with transaction.atomic():
        _lock_code_key(key)
        counts = PasswordAttempt.objects.filter(
            Q(code=key) | Q(client_ip=client_ip), created_at__gte=since, outcome__in=_COUNTING
        ).aggregate(
            code=Count("pk", filter=Q(code=key)), ip=Count("pk", filter=Q(client_ip=client_ip))
        )
        locked = counts["code"] >= MAX_CODE_FAILURES or counts["ip"] >= MAX_IP_FAILURES
        attempt = PasswordAttempt.objects.create(
            code=key,
            client_ip=client_ip,
            outcome=PasswordAttempt.Outcome.BLOCKED if locked else PasswordAttempt.Outcome.PENDING,
            created_at=now,
        )
    return None if locked else attempt


def _finish_attempt(attempt: PasswordAttempt, right: bool) -> None:
    outcome = PasswordAttempt.Outcome.OK if right else PasswordAttempt.Outcome.FAILED
    PasswordAttempt.objects.filter(pk=attempt.pk).update(outcome=outcome)


def check_code_password(*, code: str, password: str, client_ip: str) -> CodeCheck:
    """Check a consumer's code + password. Wrong and unknown codes get the same answer; after
    MAX_CODE_FAILURES wrong tries on a code (or MAX_IP_FAILURES from one address) within
    LOCK_MINUTES, every try is refused as locked, whether or not the code exists."""
    import hmac

    code = normalise_code(code)
    password = (password or "").strip()
    if not code or not password:
        return CodeCheck("missing", "请输入提货码和密码")
    attempt = _begin_attempt(code, client_ip)
    if attempt is None:
        return CodeCheck("locked", LOCKED_MESSAGE)
    row = PickupCode.objects.select_related("card_type").filter(code=code).first()
    right = row is not None and hmac.compare_digest(row.password.encode(), password.encode())
    _finish_attempt(attempt, right)
    if not right:
        return CodeCheck("wrong", WRONG_MESSAGE)
    problem = code_problem(row)
    if problem:
        return CodeCheck(problem[0], problem[1], row)
    return CodeCheck("ok", "", row)


def find_consumer_order(*, order_no: str, phone: str, client_ip: str) -> PickupOrder:
    """A consumer looks an order up by order number + phone, limited like the password check."""
    from pickup.selectors import consumer_order

    order_no = normalise_code(order_no)
    phone = (phone or "").strip()
    if not order_no or not phone:
        raise Refused("pickup_refused", "请输入订单号和手机号")
    attempt = _begin_attempt(f"#{order_no}"[:40], client_ip)
    if attempt is None:
        raise Refused("pickup_refused", LOCKED_MESSAGE)
    order = consumer_order(order_no, phone)
    _finish_attempt(attempt, order is not None)
    if order is None:
        raise Refused("pickup_refused", "订单号或手机号不正确，请核对后重新输入")
    return order


def purge_password_attempts(*, older_than_days: int = 2) -> int:
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    return PasswordAttempt.objects.filter(created_at__lt=cutoff).delete()[0]


# ---------------------------------------------------------------------------
# Orders: placing (consumer), shipping, completing, cancelling, verifying, recycle bin
# ---------------------------------------------------------------------------

PHONE_RE = re.compile(r"^1\d{10}$")
MAX_PICKUP_DAYS_AHEAD = 60


@dataclass(frozen=True)
class Delivery:
    kind: str
    name: str
    phone: str
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    store: PickupStore | None = None
    pickup_date: dt.date | None = None


def allowed_stores(card_type: CardType):
    """Pickup stores open to this card type: its own list, or every enabled one."""
    qs = PickupStore.objects.filter(enabled=True, store__is_active=True).select_related("store")
    if card_type.stores.exists():
        qs = qs.filter(pk__in=card_type.stores.values("pk"))
    return qs


def chosen_products(card_type: CardType, product_ids: Iterable[int]) -> list[CardTypeItem]:
    """The card type's items the consumer receives: all of them for a fixed card, exactly
    choose_count distinct ones of the list for a choice card."""
    items = list(card_type.items.select_related("product"))
    if card_type.selection == CardType.Selection.FIXED:
        return items
    wanted = {int(p) for p in product_ids}
    chosen = [i for i in items if i.product_id in wanted]
    if len(chosen) != len(wanted) or len(chosen) != card_type.choose_count:
        raise Refused("pickup_refused", f"选择商品：请从列表中选择{card_type.choose_count}件商品")
    return chosen


def _check_delivery(card_type: CardType, d: Delivery) -> None:
    if d.kind == PickupOrder.Kind.ONLINE and not card_type.allow_ship:
        raise Refused("pickup_refused", "提货方式：该卡券不支持快递配送")
    if d.kind == PickupOrder.Kind.STORE and not card_type.allow_store_pickup:
        raise Refused("pickup_refused", "提货方式：该卡券不支持门店自提")
    if d.kind not in PickupOrder.Kind.values:
        raise Refused("pickup_refused", "提货方式：请选择快递配送或门店自提")
    if not d.name.strip() or len(d.name) > 30:
        raise Refused("pickup_refused", "姓名：请填写收货人/提货人姓名（30字以内）")
    if not PHONE_RE.match(d.phone):
        raise Refused("pickup_refused", "手机号：请填写11位手机号码")
    if d.kind == PickupOrder.Kind.ONLINE:
        for label, value, size in [
            ("省份", d.province, 20),
            ("城市", d.city, 20),
            ("区县", d.district, 20),
            ("详细地址", d.address, 200),
        ]:
            if not value.strip() or len(value) > size:
                raise Refused("pickup_refused", f"{label}：请填写（{size}字以内）")
    else:
        if d.store is None or not allowed_stores(card_type).filter(pk=d.store.pk).exists():
            raise Refused("pickup_refused", "提货门店：请选择该卡券可提货的门店")
        today = timezone.localdate()
        if d.pickup_date is None or not (
            today <= d.pickup_date <= today + dt.timedelta(days=MAX_PICKUP_DAYS_AHEAD)
        ):
            raise Refused(
                "pickup_refused", f"提货日期：请选择今天起{MAX_PICKUP_DAYS_AHEAD}天内的日期"
            )


def new_order_no() -> str:
    import secrets

    return f"P{timezone.localtime():%y%m%d}{secrets.randbelow(10**9):09d}"


def place_order(
    *, serial: int, product_ids: Iterable[int], delivery: Delivery, client_ip: str | None
) -> PickupOrder:
    """Use the code and create its order, in one transaction. The code's status changes from
    unused to used by a conditional UPDATE: of concurrent submits of one code exactly one wins."""
    code = PickupCode.objects.select_related("card_type").get(serial=serial)
    if problem := code_problem(code):
        raise Refused("pickup_refused", problem[1])
    card_type = code.card_type
    items = chosen_products(card_type, product_ids)
    _check_delivery(card_type, delivery)
    online = delivery.kind == PickupOrder.Kind.ONLINE
    with transaction.atomic():
        now = timezone.now()
        won = PickupCode.objects.filter(
            serial=serial, status=PickupCode.Status.UNUSED, enabled=True
        ).update(status=PickupCode.Status.USED, used_at=now)
        if not won:
            code.refresh_from_db()
            raise Refused("pickup_refused", (code_problem(code) or ("used", "该提货码已使用"))[1])
        for _attempt in range(5):
            order_no = new_order_no()
            if not PickupOrder.objects.filter(order_no=order_no).exists():
                break
        order = PickupOrder.objects.create(
            order_no=order_no,
            code=code,
            card_type=card_type,
            kind=delivery.kind,
            consumer_name=delivery.name.strip(),
            consumer_phone=delivery.phone,
            province=delivery.province.strip() if online else "",
            city=delivery.city.strip() if online else "",
            district=delivery.district.strip() if online else "",
            address=delivery.address.strip() if online else "",
            store=None if online else delivery.store,
            pickup_date=None if online else delivery.pickup_date,
            client_ip=client_ip,
            created_at=now,
        )
        PickupOrderItem.objects.bulk_create(
            PickupOrderItem(
                order=order,
                product_id=i.product_id,
                product_name=i.product.name[:100],
                quantity=i.quantity,
            )
            for i in items
        )
        record_audit(
            actor=None,
            action="pickup.order.create",
            obj=order,
            org=order.store.store if order.store else None,
            after={**snapshot(order), "products": [i.product_id for i in items]},
            note=f"消费者提货：提货码{code.code}",
        )
        transaction.on_commit(lambda: notify_new_order(order.pk))
    return order


def _admin_phones() -> list[str]:
    from couponhub.core.models import RoleAssignment, User

    return sorted(
        set(
            User.objects.filter(
                is_active=True,
                role_assignments__role=RoleAssignment.Role.ADMIN,
            )
            .exclude(phone="")
            .values_list("phone", flat=True)
        )
    )


def _send(phone: str, text: str, purpose: str) -> None:
    """Send one notice; a refused or failed send is logged by core and never raises here."""
    import logging

    from couponhub.core.sms import send_sms

    try:
        message = send_sms(phone=phone, text=text, purpose=purpose)
    except Exception:  # the gateway must never break the order flow
        logging.getLogger(__name__).exception("pickup SMS to %s failed", phone)
        return
    if message.status not in ("sent", "pending"):
        logging.getLogger(__name__).warning(
            "pickup SMS %s to %s not sent: %s", purpose, phone, message.error
        )


def notify_new_order(order_id: int) -> None:
    """New online order → admins; new store order → admins and the store's manager."""
    order = PickupOrder.objects.select_related("card_type", "store__store").get(pk=order_id)
    name = PickupSettings.load().name
    if order.kind == PickupOrder.Kind.ONLINE:
        text = (
            f"【{name}】新线上订单{order.order_no}：{order.card_type.name}，"
            f"收货人{order.consumer_name}，{order.province}{order.city}，请及时发货。"
        )
        for phone in _admin_phones():
            _send(phone, text, "pickup_new_online_order")
        return
    text = (
        f"【{name}】新门店自提订单{order.order_no}：{order.card_type.name}，"
        f"{order.store.store.name}，提货日期{order.pickup_date:%Y-%m-%d}。"
    )
    phones = _admin_phones()
    for phone in phones:
        _send(phone, text, "pickup_new_store_order")
    manager = order.store.manager_phone
    if manager and manager not in phones:
        _send(manager, text, "pickup_store_order_manager")


def _change_order(
    order: PickupOrder,
    *,
    actor,
    verb: str,
    allowed_from: Iterable[str],
    kind: str | None = None,
    note: str = "",
    **changes,
) -> PickupOrder:
    """A conditional UPDATE from one of `allowed_from`; refused when the order moved meanwhile."""
    before = snapshot(order)
    qs = PickupOrder.objects.filter(pk=order.pk, status__in=list(allowed_from), deleted_at=None)
    if kind:
        qs = qs.filter(kind=kind)
    if not qs.update(**changes):
        order.refresh_from_db()
        raise Refused(
            "pickup_refused",
            f"订单{order.order_no}当前状态为「{order.status_label}」，不能{_VERBS[verb]}",
        )
    order.refresh_from_db()
    record_audit(
        actor=actor,
        action=f"pickup.order.{verb}",
        obj=order,
        org=order.store.store if order.store_id else None,
        before=before,
        after=snapshot(order),
        note=note,
    )
    return order


_VERBS = {"ship": "发货", "complete": "完成", "cancel": "取消", "verify": "核销"}
S = PickupOrder.Status


def ship_order(*, actor, order: PickupOrder, courier: Courier, tracking_no: str) -> PickupOrder:
    tracking_no = (tracking_no or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{6,40}", tracking_no):
        raise Refused("pickup_refused", "快递单号：请填写6～40位字母或数字")
    if not courier.enabled:
        raise Refused("pickup_refused", "快递公司：该快递公司已停用")
    with transaction.atomic():
        now = timezone.now()
        order = _change_order(
            order,
            actor=actor,
            verb="ship",
            allowed_from=[S.PENDING],
            kind=PickupOrder.Kind.ONLINE,
            status=S.SHIPPED,
            courier=courier,
            tracking_no=tracking_no,
            shipped_at=now,
            handled_by=actor,
        )
        PickupCode.objects.filter(pk=order.code_id).update(shipped=True, shipped_at=now)
        text = (
            f"【{PickupSettings.load().name}】您的提货订单{order.order_no}已发货，"
            f"{courier.name}，快递单号{tracking_no}，请注意查收。"
        )
        phone = order.consumer_phone
        transaction.on_commit(lambda: _send(phone, text, "pickup_order_shipped"))
    return order


def complete_order(*, actor, order: PickupOrder, note: str = "") -> PickupOrder:
    with transaction.atomic():
        return _change_order(
            order,
            actor=actor,
            verb="complete",
            allowed_from=[S.SHIPPED],
            kind=PickupOrder.Kind.ONLINE,
            note=note,
            status=S.COMPLETED,
            completed_at=timezone.now(),
        )


def complete_shipped_orders(*, now=None) -> int:
    """Complete the online orders shipped at least `auto_complete_days` ago (the nightly task)."""
    now = now or timezone.now()
    days = PickupSettings.load().auto_complete_days
    due = PickupOrder.objects.filter(
        kind=PickupOrder.Kind.ONLINE,
        status=S.SHIPPED,
        deleted_at=None,
        shipped_at__lte=now - dt.timedelta(days=days),
    ).order_by("pk")
    done = 0
    for order in due.iterator():
        try:
            complete_order(actor=None, order=order, note=f"发货{days}天后自动完成")
        except Refused:
            continue  # changed meanwhile
        done += 1
    return done


def cancel_order(*, actor, order: PickupOrder, reason: str = "") -> PickupOrder:
    """Cancel an order that is not shipped or picked up yet; its code can be used again."""
    with transaction.atomic():
        order = _change_order(
            order,
            actor=actor,
            verb="cancel",
            allowed_from=[S.PENDING],
            note=reason,
            status=S.CANCELLED,
            cancelled_at=timezone.now(),
            handled_by=actor,
        )
        PickupCode.objects.filter(pk=order.code_id, status=PickupCode.Status.USED).update(
            status=PickupCode.Status.UNUSED, used_at=None, shipped=False, shipped_at=None
        )
    return order


def verify_store_order(*, actor, order: PickupOrder, phone: str) -> PickupOrder:
    """核销: the consumer shows order number + phone at the store; the order is completed."""
    if order.kind != PickupOrder.Kind.STORE:
        raise Refused("pickup_refused", "订单号：这不是门店自提订单")
    if (phone or "").strip() != order.consumer_phone:
        raise Refused("pickup_refused", "手机号：与订单的手机号不一致")
    with transaction.atomic():
        now = timezone.now()
        order = _change_order(
            order,
            actor=actor,
            verb="verify",
            allowed_from=[S.PENDING],
            kind=PickupOrder.Kind.STORE,
            status=S.COMPLETED,
            completed_at=now,
            handled_by=actor,
        )
        PickupCode.objects.filter(pk=order.code_id).update(picked_up=True, picked_up_at=now)
    return order


def delete_orders(*, actor, orders) -> int:
    """Move orders to the recycle bin."""
    with transaction.atomic():
        ids = list(orders.filter(deleted_at=None).values_list("pk", flat=True))
        count = PickupOrder.objects.filter(pk__in=ids, deleted_at=None).update(
            deleted_at=timezone.now()
        )
        if count:
            record_audit(
                actor=actor,
                action="pickup.order.delete",
                object_type="pickup.pickuporder",
                object_repr=f"{count}个订单",
                after={"ids": ids},
                note="移入回收站",
            )
    return count


def restore_orders(*, actor, orders) -> int:
    with transaction.atomic():
        ids = list(orders.exclude(deleted_at=None).values_list("pk", flat=True))
        count = PickupOrder.objects.filter(pk__in=ids).update(deleted_at=None)
        if count:
            record_audit(
                actor=actor,
                action="pickup.order.restore",
                object_type="pickup.pickuporder",
                object_repr=f"{count}个订单",
                after={"ids": ids},
                note="从回收站恢复",
            )
    return count


def purge_orders(*, actor, orders) -> int:
    """Delete orders for good (only from the recycle bin). The codes stay used; an order whose
    red packet was claimed stays, since the claim's money went out through it."""
    with transaction.atomic():
        qs = orders.exclude(deleted_at=None).exclude(
            pk__in=RedPacketClaim.objects.values("order_id")
        )
        rows = list(qs.values("pk", "order_no", "code_id", "status", "consumer_phone"))
        ids = [r["pk"] for r in rows]
        PickupOrderItem.objects.filter(order_id__in=ids).delete()
        count = PickupOrder.objects.filter(pk__in=ids).delete()[0]
        if count:
            record_audit(
                actor=actor,
                action="pickup.order.purge",
                object_type="pickup.pickuporder",
                object_repr=f"{count}个订单",
                before={"orders": rows},
                note="从回收站彻底删除",
            )
    return count


def start_order_export(*, actor, kind: str, query: dict) -> Job:
    from pickup.selectors import filtered_orders

    total = filtered_orders(kind, query).count()
    if total == 0:
        raise Refused("pickup_refused", "筛选条件：没有符合条件的订单")
    with transaction.atomic():
        job = enqueue_job(
            kind="pickup.export_orders",
            title=f"导出{'线上' if kind == 'online' else '门店'}订单（{total}条）",
            owner=actor if getattr(actor, "is_authenticated", False) else None,
            params={"kind": kind, "query": query},
            total=total,
        )
        record_audit(
            actor=actor,
            action="pickup.order.export",
            obj=job,
            after={"kind": kind, "query": query, "rows": total},
        )
    return job


# ---------------------------------------------------------------------------
# Red packets: settings, account, generation, clearing, claims
# ---------------------------------------------------------------------------

MAX_RED_PACKET = Decimal("200.00")
MAX_RED_PACKET_CODES = 200_000


def _locked_account() -> RedPacketAccount:
    """The account row, locked until the end of the transaction: every change of balance,
    reservation or claim goes through this one lock, so the arithmetic holds under concurrency."""
    RedPacketAccount.load()
    return RedPacketAccount.objects.select_for_update().get(pk=RedPacketAccount.SINGLETON_PK)


def _ledger(account, *, kind, amount, actor=None, codes=0, note="") -> RedPacketEntry:
    return RedPacketEntry.objects.create(
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        reserved_after=account.reserved,
        codes=codes,
        note=note[:300],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


def save_red_packet_settings(*, actor, instance: RedPacketSettings) -> RedPacketSettings:
    with transaction.atomic():
        before = snapshot(RedPacketSettings.load())
        instance.pk = RedPacketSettings.SINGLETON_PK
        instance.save()
        record_audit(
            actor=actor,
            action="pickup.redpacketsettings.update",
            obj=instance,
            before=before,
            after=snapshot(instance),
        )
    return instance


def top_up_red_packets(*, actor, amount, note: str = "") -> RedPacketAccount:
    amount = to_money(amount)
    if amount <= 0 or amount > Decimal("1000000"):
        raise Refused("pickup_refused", "充值金额：须大于0且不超过1,000,000元")
    with transaction.atomic():
        account = _locked_account()
        before = snapshot(account)
        account.balance += amount
        account.top_ups_total += amount
        account.save(update_fields=["balance", "top_ups_total"])
        _ledger(account, kind=RedPacketEntry.Kind.TOP_UP, amount=amount, actor=actor, note=note)
        record_audit(
            actor=actor,
            action="pickup.redpacket.top_up",
            obj=account,
            before=before,
            after=snapshot(account),
            note=note,
        )
    return account


def allocate_amounts(count: int, low: Decimal, high: Decimal, budget: Decimal, rng=None) -> list:
    """`count` random amounts in [low, high] (to the fen) whose sum never exceeds `budget`.
    Each draw leaves at least `low` for every code still to come."""
    import random

    rng = rng or random.SystemRandom()
    low_fen, high_fen, left = int(low * 100), int(high * 100), int(budget * 100)
    if count * low_fen > left:
        raise Refused(
            "pickup_refused",
            f"红包金额：余额¥{budget}不足以给{count}个提货码各分配最低¥{low}"
            f"（至少需要¥{to_money(Decimal(count) * low)}）",
        )
    amounts = []
    for i in range(count):
        rest = count - i - 1
        top = min(high_fen, left - rest * low_fen)
        fen = rng.randint(low_fen, top)
        left -= fen
        amounts.append(Decimal(fen) / 100)
    return amounts


def red_packet_candidates(selection: dict):
    """The selected codes that can take a red packet: unused and without one yet."""
    from pickup.selectors import select_codes

    return select_codes(selection).filter(status=PickupCode.Status.UNUSED, red_packet_amount=0)


def generate_red_packets(*, actor, selection: dict, low, high) -> RedPacketEntry:
    """Put a random amount in [low, high] on every selected unused code without a red packet;
    the total is reserved from the balance in the same transaction (never beyond it)."""
    from pickup.selectors import describe_selection

    low, high = to_money(low), to_money(high)
    if not any(v not in (None, "") for v in selection.values()):
        raise Refused(
            "pickup_refused", "筛选条件：至少需要一个条件（流水号段、批次、卡券或生成日期）"
        )
    if low <= 0 or high < low or high > MAX_RED_PACKET:
        raise Refused(
            "pickup_refused",
            f"红包金额：最低金额须大于0，最高金额不低于最低金额且不超过¥{MAX_RED_PACKET}",
        )
    with transaction.atomic():
        account = _locked_account()
        serials = list(
            red_packet_candidates(selection).order_by("serial").values_list("serial", flat=True)
        )
        if not serials:
            raise Refused("pickup_refused", "筛选条件：没有可分配红包的提货码（未使用且尚无红包）")
        if len(serials) > MAX_RED_PACKET_CODES:
            raise Refused(
                "pickup_refused", f"筛选条件：一次最多为{MAX_RED_PACKET_CODES:,}个提货码生成红包"
            )
        amounts = allocate_amounts(len(serials), low, high, account.balance)
        total = to_money(sum(amounts, Decimal(0)))
        _set_red_packet_amounts(serials, amounts)
        account.balance -= total
        account.reserved += total
        account.save(update_fields=["balance", "reserved"])
        note = f"{describe_selection(selection)}，每个¥{low}～¥{high}"
        entry = _ledger(
            account,
            kind=RedPacketEntry.Kind.RESERVE,
            amount=total,
            actor=actor,
            codes=len(serials),
            note=note,
        )
        record_audit(
            actor=actor,
            action="pickup.redpacket.generate",
            obj=entry,
            after={
                "selection": selection,
                "low": low,
                "high": high,
                "codes": len(serials),
                "total": total,
                "balance": account.balance,
            },
            note=note,
        )
    return entry


def _set_red_packet_amounts(serials: list[int], amounts: list[Decimal]) -> None:
    # One statement for them all: 200,000 codes in a few seconds, not a CASE per thousand.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PickupCode._meta.db_table} AS c SET red_packet_amount = v.amount "
            "FROM unnest(%s::bigint[], %s::numeric[]) AS v (serial, amount) "
            "WHERE c.serial = v.serial",
            [serials, amounts],
        )


def clear_red_packets(*, actor, codes) -> RedPacketEntry | None:
    """清除: take the red packet off codes whose packet is not claimed; the amount returns to the
    balance."""
    with transaction.atomic():
        account = _locked_account()
        qs = (
            PickupCode.objects.filter(pk__in=codes.values("pk"), red_packet_amount__gt=0)
            .exclude(pk__in=RedPacketClaim.objects.values("code_id"))
            .select_for_update()
        )
        rows = list(qs.values_list("serial", "red_packet_amount"))
        if not rows:
            return None
        total = to_money(sum((a for _s, a in rows), Decimal(0)))
        PickupCode.objects.filter(pk__in=[s for s, _a in rows]).update(red_packet_amount=0)
        account.balance += total
        account.reserved -= total
        account.save(update_fields=["balance", "reserved"])
        first, last = rows[0][0], rows[-1][0]
        entry = _ledger(
            account,
            kind=RedPacketEntry.Kind.RELEASE,
            amount=total,
            actor=actor,
            codes=len(rows),
            note=f"清除红包：流水号{first}～{last}中的{len(rows)}个",
        )
        record_audit(
            actor=actor,
            action="pickup.redpacket.clear",
            obj=entry,
            before={"codes": [[s, a] for s, a in rows[:1000]]},
            after={"total": total, "balance": account.balance},
        )
    return entry


def _claims_since(phone: str, card_type_id: int, since) -> int:
    qs = RedPacketClaim.objects.filter(user_phone=phone, card_type_id=card_type_id)
    if since is not None:
        qs = qs.filter(claimed_at__gte=since)
    return qs.count()


def claim_red_packet(
    *, order: PickupOrder, client_ip: str | None = None, location: str = ""
) -> RedPacketClaim:
    """The consumer of `order` claims the red packet on its code: once per code, within the
    daily / monthly / lifetime limits per user (phone) and card type. The reserved amount moves
    to spending and a pending payout is recorded for the payment backend."""
    from pickup.payouts import backend_path, get_backend

    config = RedPacketSettings.load()
    if not config.enabled:
        raise Refused("pickup_refused", "红包活动已结束")
    with transaction.atomic():
        account = _locked_account()
        order = PickupOrder.objects.select_related("code").get(pk=order.pk)
        code = order.code
        if order.status == S.CANCELLED or order.deleted_at is not None:
            raise Refused("pickup_refused", "订单已取消，不能领取红包")
        if code.red_packet_amount <= 0:
            raise Refused("pickup_refused", "该提货码没有红包")
        if RedPacketClaim.objects.filter(code=code).exists():
            raise Refused("pickup_refused", "该提货码的红包已领取，不能重复领取")
        now = timezone.localtime()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        for label, limit, since in [
            ("每日", config.daily_limit, day),
            ("每月", config.monthly_limit, month),
            ("终身", config.lifetime_limit, None),
        ]:
            if limit and _claims_since(order.consumer_phone, order.card_type_id, since) >= limit:
                raise Refused(
                    "pickup_refused", f"已达到{label}领取上限（同一卡券{limit}个），不能再领取红包"
                )
        amount = code.red_packet_amount
        claim = RedPacketClaim.objects.create(
            code=code,
            order=order,
            card_type_id=order.card_type_id,
            user_phone=order.consumer_phone,
            user_name=order.consumer_name,
            amount=amount,
            client_ip=client_ip,
            location=location[:120],
        )
        account.reserved -= amount
        account.spent_total += amount
        account.save(update_fields=["reserved", "spent_total"])
        _ledger(
            account,
            kind=RedPacketEntry.Kind.CLAIM,
            amount=amount,
            codes=1,
            note=f"提货码{code.code}，订单{order.order_no}",
        )
        payout = RedPacketPayout.objects.create(
            claim=claim, amount=amount, payee=order.consumer_phone, backend=backend_path()
        )
        record_audit(
            actor=None,
            action="pickup.redpacket.claim",
            obj=claim,
            after={**snapshot(claim), "payout": payout.pk},
        )

        def submit():
            result = get_backend().submit(payout)
            RedPacketPayout.objects.filter(pk=payout.pk).update(
                status=result.status, reference=result.reference[:100], error=result.error[:300]
            )

        transaction.on_commit(submit)
    return claim
