"""Pickup code batches: serial numbers, generation (`fill_code_batch`), batch modify and delete."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat

import psycopg
from django.db import IntegrityError, connection, models, transaction
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
from pickup.models import (
    CardType,
    CodeBatch,
    CodeFormat,
    PickupCode,
    PickupOrder,
    PickupSettings,
    RedPacketClaim,
)
from pickup.selectors import describe_selection, select_codes

ALPHABETS = {CodeFormat.DIGITS: DIGITS, CodeFormat.LETTERS: LETTERS, CodeFormat.MIXED: MIXED}
GENERATION_CHUNK_SIZE = 20_000
MAX_QUANTITY = 10_000_000


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
    *,
    actor,
    card_type: CardType,
    spec: GenerationSpec,
    background: bool = True,
    needs_activation: bool = False,
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
            needs_activation=needs_activation,
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


# serial, code, password token (encrypted), card type, batch, activated: the columns a new
# code sets
CodeRecord = tuple[int, str, str, int, int, bool]

_NEW_CODE_COLUMNS = (
    "serial",
    "code",
    "password",
    "card_type_id",
    "batch_id",
    "activated",
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
    serials: Iterable[int],
    codes: Iterable[str],
    passwords: list[str],
    card_type_id,
    batch_id,
    activated: bool = True,
) -> list[CodeRecord]:
    """New codes as rows to store, each password sealed with crypto.encrypt (the costly part)."""
    tokens = [encrypt(p) for p in passwords]
    return list(
        zip(
            serials,
            codes,
            tokens,
            repeat(card_type_id),
            repeat(batch_id),
            repeat(activated),
            strict=False,
        )
    )


def store_codes(records: list[CodeRecord]) -> int:
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
        return code_records(
            serials, codes, passwords, batch.card_type_id, batch.pk, not batch.needs_activation
        )

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
            if store_codes(records) == len(records) == len(missing):
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
