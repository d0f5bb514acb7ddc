"""Filling the report facts: incremental, idempotent, up to the end of yesterday.

Every build reads a *window* of source changes `[since, until)` and refreshes the facts of the
source rows changed in it; the state it writes is the state *as of* `as_of` (normally `until`,
today 00:00 Asia/Shanghai): a coupon redeemed at 00:30 today still shows unused until the next
night, so the report never mixes in today's data.

What counts as a change of a U-value exchange coupon:
- one of its own timestamps falls in the window: obtained, used, voided, or valid_to (it expired);
- an audit entry in the window names the coupon (freeze, unfreeze, void, transfer, return…), its
  coupon rule or campaign (renamed), its member (new phone) or its redeeming store (renamed).

The refresh compares each computed row with the stored fact and writes only rows that differ, so
a second run over the same window writes nothing (idempotent). `FactRun` rows are the run log:
the newest successful run's `until` is the watermark the next incremental run starts from, so a
missed night is caught up by the next one.
"""

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, Max, Q, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from couponhub.core.models import AuditEntry
from couponhub.core.money import to_money
from coupons.models import Coupon, CouponRule
from promocodes.models import PromoCodeUse
from redemption.models import RedemptionLine
from reports.models import FactRun, PromoDailyFact, RedemptionDailyFact, UValueCouponFact

CHUNK = 5000
Status = Coupon.Status

# audit object type → the coupon field that depends on it
DEPENDENT_TYPES = {
    "coupons.coupon": "pk",
    "coupons.couponrule": "rule_id",
    "coupons.campaign": "campaign_id",
    "members.member": "member_id",
    "core.org": "used_store_id",
}

SOURCE_FIELDS = (
    "id",
    "code",
    "status",
    "obtained_at",
    "used_at",
    "voided_at",
    "valid_to",
    "u_value_paid",
    "member_id",
    "member__name",
    "member__card_no",
    "member__phone",
    "member__registration_store_id",
    "member__registration_store__path",
    "used_store_id",
    "used_store__name",
    "used_store__code",
    "used_store__path",
    "rule_id",
    "rule__code",
    "rule__name",
    "rule__description",
    "rule__min_order_amount",
    "rule__benefit",
    "rule__face_value",
    "rule__discount_rate",
    "rule__exchange_product__name",
    "rule__creating_org__path",
    "campaign__name",
    "campaign__code",
)
FACT_FIELDS = tuple(
    f.attname for f in UValueCouponFact._meta.concrete_fields if f.attname != "refreshed_at"
)


# --- time -----------------------------------------------------------------------------------------


def start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def end_of_yesterday(now: datetime.datetime | None = None) -> datetime.datetime:
    """Today 00:00 in Asia/Shanghai: facts never include anything from this instant on."""
    return start_of_day(timezone.localdate(now or timezone.now()))


def watermark() -> datetime.datetime | None:
    return FactRun.objects.filter(status=FactRun.Status.SUCCEEDED).aggregate(m=Max("until"))["m"]


# --- what changed ---------------------------------------------------------------------------------


def u_value_q() -> Q:
    """Coupons obtained by U-value exchange (a transfer changes the channel, not the price)."""
    return Q(u_value_paid__gt=0) | Q(channel=Coupon.Channel.U_VALUE_EXCHANGE)


def _in_window(field: str, since, until) -> Q:
    q = Q(**{f"{field}__lt": until})
    if since is not None:
        q &= Q(**{f"{field}__gte": since})
    return q


def changed_q(since, until) -> Q:
    """Coupons whose fact may differ after the changes in [since, until); all when since is None."""
    if since is None:
        return Q(obtained_at__lt=until)
    q = Q()
    for field in ("obtained_at", "used_at", "voided_at", "valid_to"):
        q |= _in_window(field, since, until)
    audit = AuditEntry.objects.filter(created_at__gte=since, created_at__lt=until)
    for object_type, field in DEPENDENT_TYPES.items():
        ids = (
            audit.filter(object_type=object_type)
            .annotate(oid=Cast("object_id", BigIntegerField()))
            .values("oid")
        )
        q |= Q(**{f"{field}__in": ids})
    # a redemption returned, or its order linked, in the window (returns clear used_at)
    returned = RedemptionLine.objects.filter(_in_window("returned_at", since, until))
    q |= Q(pk__in=returned.values("coupon_id"))
    relinked = (
        audit.filter(object_type="redemption.redemption")
        .annotate(oid=Cast("object_id", BigIntegerField()))
        .values("oid")
    )
    q |= Q(pk__in=RedemptionLine.objects.filter(redemption_id__in=relinked).values("coupon_id"))
    return q


def _chunks_of_ids(queryset) -> Iterator[list[int]]:
    """Primary keys in ascending chunks (keyset paging: no big OFFSET, no id list in memory)."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]


# --- one fact row ---------------------------------------------------------------------------------


def status_as_of(row: dict, as_of: datetime.datetime) -> str:
    """The coupon's effective status at `as_of` (later redemptions/voids not yet counted)."""
    status = row["status"]
    if status == Status.USED and (row["used_at"] is None or row["used_at"] >= as_of):
        status = Status.UNUSED
    if status == Status.VOIDED and row["voided_at"] is not None and row["voided_at"] >= as_of:
        status = Status.UNUSED
    if status == Status.UNUSED and row["valid_to"] is not None and row["valid_to"] < as_of:
        status = Status.EXPIRED
    return status


def u_value_yuan(u_value: int) -> Decimal:
    return to_money(Decimal(u_value) / Decimal(settings.U_VALUE_PER_YUAN))


def fact_values(row: dict, as_of: datetime.datetime) -> dict:
    """The fact of one coupon, from its SOURCE_FIELDS values."""
    status = status_as_of(row, as_of)
    used = status == Status.USED
    rule = CouponRule(
        benefit=row["rule__benefit"],
        face_value=row["rule__face_value"],
        discount_rate=row["rule__discount_rate"],
    )
    product_name = row["rule__exchange_product__name"]
    value_label = (
        product_name
        if rule.benefit == CouponRule.Benefit.PRODUCT and product_name
        else rule.value_label()
    )
    if used and row["used_store_id"]:
        scope_store_id, org_path = row["used_store_id"], row["used_store__path"]
    else:
        # not redeemed: the member's registration store, else the org that created the rule
        scope_store_id = row["member__registration_store_id"]
        org_path = row["member__registration_store__path"] or row["rule__creating_org__path"]
    return {
        "coupon_id": row["id"],
        "issue_date": timezone.localdate(row["obtained_at"]),
        "campaign_name": row["campaign__name"] or "",
        "campaign_code": row["campaign__code"] or "",
        "rule_id": row["rule_id"],
        "rule_code": row["rule__code"],
        "coupon_name": row["rule__name"],
        "description": row["rule__description"],
        "min_order_amount": row["rule__min_order_amount"],
        "benefit": row["rule__benefit"],
        "face_value": row["rule__face_value"],
        "value_label": value_label,
        "u_value_paid": row["u_value_paid"] or 0,
        "u_value_yuan": u_value_yuan(row["u_value_paid"] or 0),
        "coupon_code": row["code"],
        "member_id": row["member_id"],
        "member_name": row["member__name"] or "",
        "member_card": row["member__card_no"] or "",
        "member_phone": row["member__phone"] or "",
        "status": status,
        "obtained_at": row["obtained_at"],
        "used_at": row["used_at"] if used else None,
        "used_store_id": row["used_store_id"] if used else None,
        "used_store_name": (
            f"{row['used_store__code']}-{row['used_store__name']}"
            if used and row["used_store_id"]
            else ""
        ),
        "order_no": "",
        "scope_store_id": scope_store_id,
        "org_path": org_path,
    }


def source_facts(ids: Iterable[int], as_of: datetime.datetime) -> dict[int, dict]:
    rows = (
        Coupon.objects.filter(pk__in=list(ids), obtained_at__lt=as_of)
        .filter(u_value_q())
        .values(*SOURCE_FIELDS)
    )
    facts = {row["id"]: fact_values(row, as_of) for row in rows}
    used = [pk for pk, f in facts.items() if f["status"] == Status.USED]
    if used:
        lines = RedemptionLine.objects.filter(coupon_id__in=used, returned_at__isnull=True).values(
            "coupon_id", "redemption__order_no", "redemption__order__order_no"
        )
        for line in lines:
            facts[line["coupon_id"]]["order_no"] = (
                line["redemption__order__order_no"] or line["redemption__order_no"] or ""
            )
    return facts


def _same(a: dict, b: dict) -> bool:
    return all(a[f] == b[f] for f in FACT_FIELDS)


def refresh_u_value_facts(candidates, as_of) -> tuple[int, int, int, int]:
    """Bring the facts of the candidate coupons in line with the source; write only differences.

    Returns (candidates, inserted, updated, deleted).
    """
    seen = inserted = updated = deleted = 0
    update_fields = [f for f in FACT_FIELDS if f != "coupon_id"] + ["refreshed_at"]
    for ids in _chunks_of_ids(Coupon.objects.filter(candidates).filter(u_value_q())):
        seen += len(ids)
        wanted = source_facts(ids, as_of)
        stored = {
            r["coupon_id"]: r
            for r in UValueCouponFact.objects.filter(coupon_id__in=ids).values(*FACT_FIELDS)
        }
        now = timezone.now()
        changed = [
            UValueCouponFact(**values, refreshed_at=now)
            for pk, values in wanted.items()
            if pk not in stored or not _same(values, stored[pk])
        ]
        if changed:
            UValueCouponFact.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["coupon_id"],
                update_fields=update_fields,
            )
        new = sum(1 for f in changed if f.coupon_id not in stored)
        inserted += new
        updated += len(changed) - new
        gone = [pk for pk in stored if pk not in wanted]
        if gone:
            deleted += UValueCouponFact.objects.filter(coupon_id__in=gone).delete()[0]
    return seen, inserted, updated, deleted


# --- redemptions per store × day × rule -----------------------------------------------------------


def changed_redemption_days(since, until) -> set[datetime.date] | None:
    """Days whose redemption totals may have changed in the window; None means every day."""
    if since is None:
        return None
    days = set()
    day = timezone.localdate(since)
    while start_of_day(day) < until:
        days.add(day)
        day += datetime.timedelta(days=1)
    # a coupon touched in the window (returned, voided…) may change the day it was redeemed
    touched = (
        AuditEntry.objects.filter(
            created_at__gte=since, created_at__lt=until, object_type="coupons.coupon"
        )
        .annotate(oid=Cast("object_id", BigIntegerField()))
        .values("oid")
    )
    for used_at in Coupon.objects.filter(pk__in=touched, used_at__isnull=False).values_list(
        "used_at", flat=True
    ):
        days.add(timezone.localdate(used_at))
    # a return in the window takes a redemption off the day it was made
    for redeemed_at in RedemptionLine.objects.filter(
        returned_at__gte=since, returned_at__lt=until
    ).values_list("redemption__created_at", flat=True):
        days.add(timezone.localdate(redeemed_at))
    return days


def rebuild_redemption_days(days: set[datetime.date] | None, as_of) -> int:
    """Recompute the daily redemption facts of `days` (None: all); write only differences."""
    used = Coupon.objects.filter(status=Status.USED, used_store__isnull=False, used_at__lt=as_of)
    stored_qs = RedemptionDailyFact.objects.all()
    if days is not None:
        days = {d for d in days if start_of_day(d) < as_of}
        if not days:
            return 0
        lo, hi = min(days), max(days)
        used = used.filter(
            used_at__gte=start_of_day(lo), used_at__lt=start_of_day(hi + datetime.timedelta(days=1))
        )
        stored_qs = stored_qs.filter(day__in=days)
    rows = (
        used.annotate(day=TruncDate("used_at", tzinfo=timezone.get_current_timezone()))
        .values(
            "day",
            "used_store_id",
            "used_store__code",
            "used_store__name",
            "used_store__path",
            "rule_id",
            "rule__code",
            "rule__name",
        )
        .annotate(n=Count("id"), value=Sum("rule__face_value"))
        .order_by()
    )
    wanted = {}
    for r in rows:
        if days is not None and r["day"] not in days:
            continue
        wanted[(r["day"], r["used_store_id"], r["rule_id"])] = {
            "store_name": f"{r['used_store__code']}-{r['used_store__name']}",
            "org_path": r["used_store__path"],
            "rule_code": r["rule__code"],
            "rule_name": r["rule__name"],
            "count": r["n"],
            "face_value": to_money(r["value"] or 0),
        }
    stored = {(f.day, f.store_id, f.rule_id): f for f in stored_qs}
    fields = ["store_name", "org_path", "rule_code", "rule_name", "count", "face_value"]
    changed = [
        RedemptionDailyFact(day=k[0], store_id=k[1], rule_id=k[2], **v)
        for k, v in wanted.items()
        if k not in stored or any(getattr(stored[k], f) != v[f] for f in fields)
    ]
    if changed:
        RedemptionDailyFact.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["day", "store_id", "rule_id"],
            update_fields=fields,
        )
    gone = [f.pk for k, f in stored.items() if k not in wanted]
    if gone:
        RedemptionDailyFact.objects.filter(pk__in=gone).delete()
    return len({f.day for f in changed} | {k[0] for k in stored if k not in wanted})


# --- promo-code uses per day × channel -----------------------------------------------------------


def changed_promo_days(since, until) -> set[datetime.date] | None:
    """Days whose promo-code totals may have changed in the window; None means every day."""
    if since is None:
        return None
    days = set()
    day = timezone.localdate(since)
    while start_of_day(day) < until:
        days.add(day)
        day += datetime.timedelta(days=1)
    # a use cancelled in the window comes off the day it was made
    for used_at in PromoCodeUse.objects.filter(
        cancelled_at__gte=since, cancelled_at__lt=until
    ).values_list("used_at", flat=True):
        days.add(timezone.localdate(used_at))
    return days


def rebuild_promo_days(days: set[datetime.date] | None, as_of) -> int:
    """Recompute the daily promo-code facts of `days` (None: all) as of `as_of`: the days' rows
    are replaced."""
    uses = PromoCodeUse.objects.filter(used_at__lt=as_of).filter(
        Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=as_of)
    )
    stored = PromoDailyFact.objects.all()
    if days is not None:
        days = {d for d in days if start_of_day(d) < as_of}
        if not days:
            return 0
        lo, hi = min(days), max(days)
        uses = uses.filter(
            used_at__gte=start_of_day(lo), used_at__lt=start_of_day(hi + datetime.timedelta(days=1))
        )
        stored = stored.filter(day__in=days)
    rows = (
        uses.annotate(day=TruncDate("used_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "code__application__channel_id", "code__application__channel__name")
        .annotate(n=Count("id"), discount=Sum("discount"))
        .order_by()
    )
    facts = [
        PromoDailyFact(
            day=r["day"],
            channel_id=r["code__application__channel_id"],
            channel_name=r["code__application__channel__name"],
            uses=r["n"],
            discount=to_money(r["discount"] or 0),
        )
        for r in rows
        if days is None or r["day"] in days
    ]
    stored.delete()
    PromoDailyFact.objects.bulk_create(facts, batch_size=CHUNK)
    return len({f.day for f in facts})


# --- the build ------------------------------------------------------------------------------------


def build_facts(
    *,
    until: datetime.datetime | None = None,
    since: datetime.datetime | None = None,
    backfill: bool = False,
    now: datetime.datetime | None = None,
) -> FactRun:
    """Refresh every fact table from the changes in [since, until).

    Nightly (backfill=False): since is the watermark of the last successful run (None on the
    first run: a full build), until is today 00:00. Back-fill: the given window, widened down to
    the watermark when it would otherwise leave a gap; the state written is as of the later of
    `until` and the watermark, so a back-fill never turns facts back in time.
    """
    with _one_build_at_a_time():
        return _build_facts(until=until, since=since, backfill=backfill, now=now)


# Any bigint names the lock; this one spells "reports" in ASCII.
_BUILD_LOCK = int.from_bytes(b"reports", "big")


@contextmanager
def _one_build_at_a_time() -> Iterator[None]:
    """A manual build and the nightly one never interleave: the second waits for the first,
    then finds the watermark moved and reads only what is left."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_BUILD_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_BUILD_LOCK])


def _build_facts(*, until, since, backfill, now) -> FactRun:
    limit = end_of_yesterday(now)
    until = min(until or limit, limit)
    mark = watermark()
    gap = backfill and since is not None and mark is not None and since > mark
    if not backfill or gap:  # nightly, or a back-fill that would skip changes after the mark
        since = mark
    if since is not None and since > until:
        since = until
    as_of = max(until, mark) if mark else until
    run = FactRun.objects.create(since=since, until=until, as_of=as_of, is_backfill=backfill)
    try:
        with transaction.atomic():
            seen, ins, upd, dele = refresh_u_value_facts(changed_q(since, until), as_of)
            if since is None:  # full build: drop facts whose coupon is gone
                dele += UValueCouponFact.objects.exclude(
                    coupon_id__in=Coupon.objects.filter(u_value_q()).values("pk")
                ).delete()[0]
            days = rebuild_redemption_days(changed_redemption_days(since, until), as_of)
            rebuild_promo_days(changed_promo_days(since, until), as_of)
    except Exception as exc:
        FactRun.objects.filter(pk=run.pk).update(
            status=FactRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    FactRun.objects.filter(pk=run.pk).update(
        status=FactRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        candidates=seen,
        inserted=ins,
        updated=upd,
        deleted=dele,
        days_rebuilt=days,
    )
    run.refresh_from_db()
    return run
