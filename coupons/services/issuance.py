"""Electronic issuance: claim, purchase, U-value exchange, gifts (one by one or as a job), transfer.

Every issuance locks the rule row (`select_for_update`) for the length of its transaction, so the
total quantity, the per-member claim limit and the claim deadline hold under concurrent requests,
and `issued_count` moves with `F()` together with the coupons it counts.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from couponhub.core import staging
from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job
from coupons.models import Campaign, Coupon, CouponRule
from coupons.services._common import insert_coupons, lock_rule, new_coupon, validity_window
from members import services as member_services
from members.models import Member

Status = Coupon.Status
Channel = Coupon.Channel
LIMITED_CHANNELS = (Channel.CLAIM, Channel.PURCHASE, Channel.U_VALUE_EXCHANGE)


def _check_campaign(campaign: Campaign | None, rule: CouponRule, today) -> None:
    if campaign is None:
        return
    if campaign.rule_id != rule.pk:
        raise Refused("coupon_refused", "活动与券规则不符", status=409)
    if not campaign.is_active or not campaign.starts_on <= today <= campaign.ends_on:
        raise Refused("coupon_refused", f"活动【{campaign.name}】不在活动期内", status=409)


# --- one electronic coupon to one member ----------------------------------------------------------


def _check_issuable(rule: CouponRule, *, channel: str, campaign: Campaign | None, today) -> None:
    """The (locked) rule can issue one more coupon through `channel` today."""
    refusal = rule.issuance_refusal(today)
    if refusal:
        raise Refused("coupon_refused", refusal, status=409)
    if not rule.is_electronic:
        raise Refused("coupon_refused", "实物券不能在线领取，请通过领用、发放获得", status=409)
    if channel == Channel.CLAIM and rule.sale_price is not None:
        raise Refused("coupon_refused", "该券需购买获得，不能免费领取", status=409)
    if channel == Channel.PURCHASE and rule.sale_price is None:
        raise Refused("coupon_refused", "该券没有券售价，不能购买", status=409)
    if channel == Channel.U_VALUE_EXCHANGE and rule.kind != CouponRule.Kind.U_VALUE_EXCHANGE:
        raise Refused("coupon_refused", "该券不是积分兑换券，不能用U享值兑换", status=409)
    deadline = rule.claim_deadline
    if channel in (Channel.CLAIM, Channel.PURCHASE) and deadline and today > deadline:
        raise Refused("coupon_refused", f"已过最迟领取日期{deadline:%Y-%m-%d}", status=409)
    _check_campaign(campaign, rule, today)
    if rule.issued_count >= rule.total:
        raise Refused("coupon_refused", "券已领完", status=409)


def _check_member_limit(rule: CouponRule, member: Member) -> None:
    """每人限领: claims, purchases and exchanges count; gifts and transfers do not."""
    if not rule.per_member_limit:
        return
    held = Coupon.objects.filter(rule=rule, member=member, channel__in=LIMITED_CHANNELS).count()
    if held >= rule.per_member_limit:
        raise Refused("coupon_refused", f"每人限领{rule.per_member_limit}张，已达上限", status=409)


def _pay_u_value(*, actor, member: Member, rule: CouponRule, coupon: Coupon, price: int) -> None:
    try:
        member_services.change_u_value(
            member=member,
            delta=-price,
            reason=f"兑换优惠券 {rule.name}",
            actor=actor,
            ref_type="coupon",
            ref_id=coupon.code,
        )
    except member_services.InsufficientBalance as exc:
        raise Refused(
            "coupon_refused", f"U享值不足：需要{price}，当前{member.u_value}", status=409
        ) from exc


def _issue_one(
    *,
    actor,
    rule: CouponRule,
    member: Member,
    channel: str,
    campaign: Campaign | None = None,
    price_paid: Decimal | None = None,
    payment_method: str = "",
    u_value_price: int | None = None,
) -> Coupon:
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        rule = lock_rule(rule)
        _check_issuable(rule, channel=channel, campaign=campaign, today=today)
        _check_member_limit(rule, member)
        number = rule.start_value + rule.issued_count
        valid_from, valid_to = validity_window(rule, now)
        coupon = new_coupon(
            rule,
            number,
            status=Status.UNUSED,
            channel=channel,
            campaign=campaign,
            member=member,
            customer_name=member.name,
            obtained_at=now,
            valid_from=valid_from,
            valid_to=valid_to,
            price_paid=price_paid,
            payment_method=payment_method,
            u_value_paid=u_value_price,
        )
        insert_coupons(rule, [coupon])
        CouponRule.objects.filter(pk=rule.pk).update(issued_count=F("issued_count") + 1)
        if u_value_price:
            _pay_u_value(actor=actor, member=member, rule=rule, coupon=coupon, price=u_value_price)
        record_audit(
            actor=actor,
            action=f"coupons.{channel}",
            obj=coupon,
            after={"rule": rule.code, "member": member.member_no, "channel": channel},
        )
    return coupon


def claim_coupon(
    *, actor, rule: CouponRule, member: Member, campaign: Campaign | None = None
) -> Coupon:
    """A member claims a free electronic coupon (claim deadline, per-member limit, total)."""
    return _issue_one(
        actor=actor, rule=rule, member=member, channel=Channel.CLAIM, campaign=campaign
    )


def purchase_coupon(
    *,
    actor,
    rule: CouponRule,
    member: Member,
    payment_method: str,
    campaign: Campaign | None = None,
) -> Coupon:
    """A member buys an electronic ordinary coupon at its sale price."""
    return _issue_one(
        actor=actor,
        rule=rule,
        member=member,
        channel=Channel.PURCHASE,
        campaign=campaign,
        price_paid=rule.sale_price,
        payment_method=payment_method,
    )


def exchange_coupon(
    *, actor, member: Member, campaign: Campaign | None = None, rule: CouponRule | None = None
) -> Coupon:
    """U-value exchange: the U-value is deducted in the same transaction as the coupon."""
    rule = rule or campaign.rule
    price = campaign.effective_u_value_price() if campaign else rule.u_value_price
    if not price:
        raise Refused("coupon_refused", "未设置U享值价格，不能兑换", status=409)
    return _issue_one(
        actor=actor,
        rule=rule,
        member=member,
        channel=Channel.U_VALUE_EXCHANGE,
        campaign=campaign,
        u_value_price=price,
    )


# --- gifts ----------------------------------------------------------------------------------------


def gift_coupons(
    *,
    actor,
    rule: CouponRule,
    member_ids: Iterable[int],
    count: int | None = None,
    campaign: Campaign | None = None,
    job: Job | None = None,
    audit: bool = True,
) -> int:
    """Give one coupon of `rule` to each member in `member_ids`, all or nothing.

    The operator's gift is not bound by the per-member claim limit; it is bound by the total.
    Bulk: codes are allocated as one block under the rule's row lock. With `count` given,
    `member_ids` may be a stream of that many ids (read once, as the coupons are written).
    """
    if count is None:
        member_ids = list(member_ids)
        count = len(member_ids)
    if not count:
        return 0
    now = timezone.now()
    today = timezone.localdate(now)
    valid_from, valid_to = None, None
    with transaction.atomic():
        rule = lock_rule(rule)
        refusal = rule.issuance_refusal(today)
        if refusal:
            raise Refused("coupon_refused", refusal, status=409)
        if not rule.is_electronic:
            raise Refused("coupon_refused", "实物券不能赠送，请通过领用、发放获得", status=409)
        _check_campaign(campaign, rule, today)
        if rule.issued_count + count > rule.total:
            raise Refused(
                "coupon_refused",
                f"剩余可发{rule.total - rule.issued_count}张，不足{count}张",
                status=409,
            )
        valid_from, valid_to = validity_window(rule, now)
        first = rule.start_value + rule.issued_count
        campaign_id = campaign.pk if campaign else None
        job_id = job.pk if job else None
        coupons = (
            new_coupon(
                rule,
                first + i,
                status=Status.UNUSED,
                channel=Channel.GIFT,
                campaign_id=campaign_id,
                member_id=member_id,
                obtained_at=now,
                valid_from=valid_from,
                valid_to=valid_to,
                job_id=job_id,
                created_at=now,
            )
            for i, member_id in enumerate(member_ids)
        )
        # a chunk at a time: the ids may stream from a cursor on this connection, which cannot
        # be read while a COPY is under way
        while chunk := list(islice(coupons, GIFT_CHUNK)):
            if rule.code_mode == CouponRule.CodeMode.SEQUENTIAL:
                _copy_coupons(chunk)
            else:
                insert_coupons(rule, chunk)
        CouponRule.objects.filter(pk=rule.pk).update(issued_count=F("issued_count") + count)
        if audit:
            record_audit(
                actor=actor,
                action="coupons.gift",
                obj=rule,
                after={"count": count, "campaign": campaign.code if campaign else None},
                note=f"job {job_id}" if job_id else "",
            )
    return count


# A gift list is staged like every import (couponhub.core.staging): its first cells copied into
# a temporary table as the file is read, the members found in SQL (a phone first, then a card
# number, then a member ID), and the coupons written as the ids stream back, in the list's order
# and once a member. Nothing of the list is kept in Python whatever its length.
GIFT_CHUNK = 5_000
GIFT_ERRORS_KEPT = 1_000
_GIFT_ROWS = "gift_list_rows"
_GIFT_MEMBERS = "gift_list_members"
_MEMBERS = Member._meta.db_table
_RESOLVE_GIFT_ROWS = f"""
    CREATE TEMPORARY TABLE {_GIFT_MEMBERS} ON COMMIT DROP AS
    SELECT r.row_no, r.key, COALESCE(mp.id, mc.id, mn.id) AS member_id
    FROM {_GIFT_ROWS} r
    LEFT JOIN {_MEMBERS} mp ON mp.phone = r.key
    LEFT JOIN {_MEMBERS} mc ON mc.card_no = r.key
    LEFT JOIN {_MEMBERS} mn ON mn.member_no = r.key
"""
_UNKNOWN_GIFT_ROWS = f"""
    SELECT row_no, key, count(*) OVER () FROM {_GIFT_MEMBERS} WHERE member_id IS NULL
    ORDER BY row_no LIMIT %s
"""
_GIFT_MEMBER_COUNT = f"SELECT count(DISTINCT member_id) FROM {_GIFT_MEMBERS}"
_GIFT_MEMBER_IDS = f"""
    SELECT member_id FROM {_GIFT_MEMBERS} GROUP BY member_id ORDER BY min(row_no)
"""


@dataclass(frozen=True)
class GiftOutcome:
    """`gifted` coupons (0 when a row names no member); `error_count` such rows, the first
    GIFT_ERRORS_KEPT of them in `errors` ([{row, value, error}], by row)."""

    gifted: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)


def _echo(value: str, limit: int = 20) -> str:
    """A refused value as a report repeats it: its first `limit` characters."""
    return value if len(value) <= limit else value[:limit] + "…"


def _gift_list_keys(rows) -> Iterator[tuple[int, str]]:
    """(row number, first cell) of each row of a gift list naming a member; a first row without
    a digit is a header."""
    for number, row in enumerate(rows, start=1):
        if not row or not row[0]:
            continue
        if number == 1 and not any(ch.isdigit() for ch in row[0]):
            continue  # a header row
        yield number, row[0].strip()


def gift_coupons_to_list(
    *,
    actor,
    rule: CouponRule,
    rows: Iterable[list[str]],
    campaign: Campaign | None = None,
    job: Job | None = None,
    after_chunk: Callable[[int], None] | None = None,
) -> GiftOutcome:
    """Gift one coupon of `rule` to every member a list names by phone, card number or member
    ID (once a member), all or nothing, in one transaction: any row that names no member → no
    coupon, and the rows are reported. `after_chunk(rows read)` after each chunk of the list."""
    with transaction.atomic():
        listed = staging.stage_rows(
            table=_GIFT_ROWS,
            columns=("row_no integer NOT NULL", "key text NOT NULL"),
            records=_gift_list_keys(rows),
            after_chunk=after_chunk,
        )
        if not listed:
            raise Refused("coupon_refused", "名单中没有会员：只有表头或空行，未发放任何券", 409)
        with connection.cursor() as cursor:
            cursor.execute(_RESOLVE_GIFT_ROWS)
            cursor.execute(_UNKNOWN_GIFT_ROWS, [GIFT_ERRORS_KEPT])
            unknown = cursor.fetchall()
            if unknown:
                errors = [
                    {"row": n, "value": _echo(key), "error": "会员不存在"} for n, key, _c in unknown
                ]
                outcome = GiftOutcome(error_count=unknown[0][2], errors=errors)
            else:
                cursor.execute(_GIFT_MEMBER_COUNT)
                (count,) = cursor.fetchone()
                member_ids = (member_id for (member_id,) in staging.stream_rows(_GIFT_MEMBER_IDS))
                gifted = gift_coupons(
                    actor=actor,
                    rule=rule,
                    member_ids=member_ids,
                    count=count,
                    campaign=campaign,
                    job=job,
                )
                outcome = GiftOutcome(gifted=gifted)
        staging.drop_staging(_GIFT_MEMBERS)
        staging.drop_staging(_GIFT_ROWS)
    return outcome


_COPY_COLUMNS = (
    "rule_id",
    "code",
    "number",
    "status",
    "status_before_freeze",
    "channel",
    "campaign_id",
    "member_id",
    "customer_name",
    "obtained_at",
    "valid_from",
    "valid_to",
    "payment_method",
    "job_id",
    "created_at",
)


def _copy_coupons(coupons: Iterable[Coupon]) -> None:
    """PostgreSQL COPY of new coupon rows: several times faster than INSERT for big gifts."""
    table = Coupon._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:
            for c in coupons:
                copy.write_row(
                    (
                        c.rule_id,
                        c.code,
                        c.number,
                        c.status,
                        "",
                        c.channel,
                        c.campaign_id,
                        c.member_id,
                        c.customer_name,
                        c.obtained_at,
                        c.valid_from,
                        c.valid_to,
                        "",
                        c.job_id,
                        c.created_at,
                    )
                )


def start_gift_job(*, actor, rule: CouponRule, campaign: Campaign | None, upload) -> Job:
    """Store the uploaded member list and queue the gift job."""
    refusal = rule.issuance_refusal()
    if refusal:
        raise Refused("coupon_refused", refusal, status=409)
    with transaction.atomic():
        name = default_storage.save(f"imports/gifts/{upload.name}", upload)
        job = enqueue_job(
            kind="coupons.gift",
            title=f"赠送优惠券 {rule.code} {rule.name}"[:200],
            owner=actor,
            params={
                "rule_id": rule.pk,
                "campaign_id": campaign.pk if campaign else None,
                "file": name,
            },
        )
        record_audit(actor=actor, action="coupons.gift_start", obj=rule, note=upload.name)
    return job


# --- transfer -------------------------------------------------------------------------------------


def transfer_coupon(*, actor, coupon: Coupon, from_member: Member, to_member: Member) -> Coupon:
    """Give an unused, unexpired, transferable electronic coupon to another member."""
    if from_member.pk == to_member.pk:
        raise Refused("coupon_refused", "不能转赠给自己", status=409)
    now = timezone.now()
    with transaction.atomic():
        if not coupon.rule.transferable or not coupon.rule.is_electronic:
            raise Refused("coupon_refused", "该券不可转赠", status=409)
        updated = Coupon.objects.filter(
            pk=coupon.pk, member=from_member, status=Status.UNUSED, valid_to__gte=now
        ).update(member=to_member, transferred_from=from_member, channel=Channel.TRANSFER)
        if not updated:
            coupon.refresh_from_db()
            raise Refused("coupon_refused", f"券{coupon.code}当前状态不能转赠", status=409)
        record_audit(
            actor=actor,
            action="coupons.transfer",
            obj=coupon,
            before={"member": from_member.member_no},
            after={"member": to_member.member_no},
        )
    coupon.refresh_from_db()
    return coupon
