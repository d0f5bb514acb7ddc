"""Writes of the redemption domain: redeem (all-or-nothing), return, link an order, the SMS check.

Redeeming is one transaction: every selected coupon goes ``unused → used`` through a conditional
UPDATE whose WHERE is `Coupon.redeemable_q(store)` (usable here, right now), in primary-key order
so two overlapping redemptions never deadlock. If any UPDATE touches no row, the coupon stopped
being usable meanwhile: the transaction rolls back and the refusal names that coupon and why.
Under concurrency PostgreSQL re-checks the WHERE against the committed row, so of many clerks or
tills redeeming one coupon exactly one succeeds.
"""

import datetime
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.models import Org
from couponhub.core.money import to_money
from couponhub.core.permissions import mask_phone
from couponhub.core.sms import send_sms
from coupons.models import Coupon, CouponRule
from members import services as member_services
from members.models import Member, MemberOrder
from redemption.models import (
    MAX_COUPONS,
    Redemption,
    RedemptionLine,
    SmsChallenge,
    SmsCodeSend,
)

Status = Coupon.Status
Method = Redemption.Method


@dataclass(frozen=True)
class Item:
    sku: str
    amount: Decimal
    category: str = ""
    qty: Decimal = field(default=Decimal("1"))


# --- refusal reasons ------------------------------------------------------------------------------

STATUS_CODES = {
    Status.USED: "coupon_used",
    Status.EXPIRED: "coupon_expired",
    Status.FROZEN: "coupon_frozen",
    Status.VOIDED: "coupon_voided",
    Status.GENERATED: "coupon_not_active",
    Status.RECEIVED: "coupon_not_active",
}


def refusal_for(coupon: Coupon, store: Org, now=None) -> Refused | None:
    """Why `coupon` cannot be redeemed at `store` now, as a refusal naming the coupon."""
    now = now or timezone.now()
    reason = coupon.unusable_reason(store, now)
    if reason is None:
        return None
    status = coupon.effective_status(now)
    if status in STATUS_CODES:
        code = STATUS_CODES[status]
    elif coupon.valid_from and coupon.valid_from > now:
        code = "coupon_not_active"
    else:
        code = "store_not_allowed"
    return Refused(code, f"券{coupon.code}：{reason}", coupon_code=coupon.code, status=409)


def _check_order_fit(coupons: Sequence[Coupon], items: Sequence[Item]) -> None:
    """Thresholds and product coupons against the order's items (when the till sent them)."""
    skus = {i.sku for i in items}
    for coupon in coupons:
        rule = coupon.rule
        sku = rule.exchange_product_sku
        if rule.benefit == CouponRule.Benefit.PRODUCT and sku and sku not in skus:
            name = rule.exchange_product_name or sku
            raise Refused(
                "product_not_in_order",
                f"券{coupon.code}：订单中没有券对应的商品【{name}】，不能使用",
                coupon_code=coupon.code,
                status=409,
            )
        if rule.min_order_amount and rule.min_order_amount > 0:
            excluded = set(rule.excluded_categories or [])
            eligible = sum((i.amount for i in items if i.category not in excluded), Decimal("0"))
            if eligible < rule.min_order_amount:
                raise Refused(
                    "below_threshold",
                    f"券{coupon.code}：订单可用金额{to_money(eligible)}元未满"
                    f"{to_money(rule.min_order_amount)}元，不能使用",
                    coupon_code=coupon.code,
                    status=409,
                )


def _new_redemption_no(now) -> str:
    # Ten random digits: at hundreds of redemptions a second a clash stays one in millions.
    return f"HX{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


# --- redeem ---------------------------------------------------------------------------------------


def redeem_coupons(
    *,
    store: Org,
    codes: Sequence[str] = (),
    coupon_ids: Sequence[int] = (),
    app: str,
    method: str,
    actor=None,
    api_client=None,
    member: Member | None = None,
    order: MemberOrder | None = None,
    order_no: str = "",
    items: Sequence[Item] | None = None,
) -> Redemption:
    """Redeem 1–20 coupons at `store`, all or nothing; returns the Redemption.

    Select by `codes` (till, API) or `coupon_ids` (counter). With `member`, every coupon must be
    that member's. With `items` (or an `order` that has items) thresholds and product coupons are
    checked against them. Recharge coupons top up the holder's stored value.
    """
    selection = list(dict.fromkeys(codes or coupon_ids))
    if not selection:
        raise Refused("no_coupons", "请选择要核销的优惠券", status=400)
    if len(selection) > MAX_COUPONS:
        raise Refused(
            "too_many_coupons",
            f"一次最多核销{MAX_COUPONS}张优惠券，已选{len(selection)}张",
            status=400,
        )
    if actor is None and api_client is None:
        raise ValueError("a redemption needs a clerk or an API client")
    now = timezone.now()
    with transaction.atomic():
        lookup = {"code__in": selection} if codes else {"pk__in": selection}
        coupons = list(
            Coupon.objects.filter(**lookup)
            .select_related("rule", "member")
            .prefetch_related("rule__usable_orgs")
            .order_by("pk")
        )
        found = {c.code if codes else c.pk for c in coupons}
        missing = [s for s in selection if s not in found]
        if missing:
            raise Refused(
                "coupon_not_found",
                f"券{missing[0]}：券码不存在",
                coupon_code=str(missing[0]),
                status=404,
            )
        if member is not None:
            for coupon in coupons:
                if coupon.member_id != member.pk:
                    raise Refused(
                        "coupon_not_members",
                        f"券{coupon.code}：不属于会员{member.name or member.member_no}",
                        coupon_code=coupon.code,
                        status=409,
                    )
        for coupon in coupons:
            refusal = refusal_for(coupon, store, now)
            if refusal:
                raise refusal
        if items is None and order is not None:
            items = [
                Item(sku=i.sku, amount=i.amount, category=i.category, qty=i.qty)
                for i in order.items.all()
            ]
        if items is not None:
            _check_order_fit(coupons, items)
        redeemable = Coupon.redeemable_q(store, now)  # built once, not once per coupon
        for coupon in coupons:
            updated = (
                Coupon.objects.filter(pk=coupon.pk)
                .filter(redeemable)
                .update(status=Status.USED, used_at=now, used_store=store)
            )
            if not updated:
                coupon.refresh_from_db()
                raise refusal_for(coupon, store, now) or Refused(
                    "coupon_used", f"券{coupon.code}：券已使用", coupon_code=coupon.code, status=409
                )
            coupon.status, coupon.used_at, coupon.used_store = Status.USED, now, store
        holders = {c.member_id for c in coupons}
        if member is None and len(holders) == 1 and None not in holders:
            member = coupons[0].member
        redemption = Redemption.objects.create(
            redemption_no=_new_redemption_no(now),
            store=store,
            member=member,
            clerk=actor,
            api_client=api_client,
            app=app[:60],
            method=method,
            order=order,
            order_no=order.order_no if order else order_no,
            created_at=now,
        )
        try:  # no savepoint needed: the refusal leaves the block at once and rolls it all back
            RedemptionLine.objects.bulk_create(
                RedemptionLine(redemption=redemption, coupon=c) for c in coupons
            )
        except IntegrityError:  # a live line already holds one of these coupons
            raise Refused("coupon_used", "券已被核销，请刷新后重试", status=409) from None
        for coupon in coupons:
            if coupon.rule.benefit == CouponRule.Benefit.RECHARGE:
                _top_up(coupon, member, store, actor, redemption)
        record_audit(
            actor=actor or _client_label(api_client),
            action="redemption.redeem",
            obj=redemption,
            org=store,
            after={
                "codes": [c.code for c in coupons],
                "member": member.member_no if member else None,
                "method": method,
                "app": app,
                "order_no": redemption.order_no,
            },
        )
    redemption.redeemed_coupons = coupons
    return redemption


def _client_label(api_client) -> str:
    return f"api:{api_client.name}" if api_client else "system"


def _top_up(coupon: Coupon, member, store, actor, redemption) -> None:
    holder = coupon.member or member
    if holder is None:
        raise Refused(
            "member_required",
            f"券{coupon.code}：充值券未绑定会员，请在会员查询中核销",
            coupon_code=coupon.code,
            status=409,
        )
    member_services.credit_stored_value(
        member=holder,
        amount=coupon.rule.face_value,
        reason=f"充值券核销 {coupon.code}",
        actor=actor,
        store=store,
        ref_type="redemption",
        ref_id=redemption.redemption_no,
    )


# --- return ---------------------------------------------------------------------------------------


def return_redemption_line(
    *, line: RedemptionLine, actor=None, api_client=None, note: str = ""
) -> RedemptionLine:
    """退券: once per line; the coupon goes back to unused (past valid_to it shows expired)."""
    now = timezone.now()
    with transaction.atomic():
        updated = RedemptionLine.objects.filter(pk=line.pk, returned_at__isnull=True).update(
            returned_at=now,
            returned_by=actor,
            returned_via=(api_client.name if api_client else "")[:100],
        )
        if not updated:
            raise Refused(
                "already_returned", f"券{line.coupon.code}：已退券，不能重复退券", status=409
            )
        coupon = line.coupon
        back = Coupon.objects.filter(pk=coupon.pk, status=Status.USED).update(
            status=Status.UNUSED, used_at=None, used_store=None
        )
        if not back:
            raise Refused(
                "coupon_not_used", f"券{coupon.code}：不是已核销状态，不能退券", status=409
            )
        redemption = line.redemption
        if coupon.rule.benefit == CouponRule.Benefit.RECHARGE:
            holder = coupon.member or redemption.member
            try:
                member_services.debit_stored_value(
                    member=holder,
                    amount=coupon.rule.face_value,
                    reason=f"充值券退券 {coupon.code}",
                    actor=actor,
                    store=redemption.store,
                    ref_type="redemption",
                    ref_id=redemption.redemption_no,
                )
            except member_services.InsufficientBalance:
                raise Refused(
                    "stored_value_insufficient",
                    f"券{coupon.code}：会员储值余额不足，不能退回充值券",
                    status=409,
                ) from None
        record_audit(
            actor=actor or _client_label(api_client),
            action="redemption.return",
            obj=redemption,
            org=redemption.store,
            before={"coupon": coupon.code, "status": Status.USED},
            after={"coupon": coupon.code, "status": Status.UNUSED},
            note=note,
        )
    line.refresh_from_db()
    return line


def return_lines(*, lines: Sequence[RedemptionLine], actor=None, api_client=None, note=""):
    """Return several lines in one transaction (API: a redemption_no or a list of codes)."""
    with transaction.atomic():
        return [
            return_redemption_line(line=line, actor=actor, api_client=api_client, note=note)
            for line in lines
        ]


def auto_return_order(*, order: MemberOrder, api_client) -> list[RedemptionLine]:
    """The POS reported the order refunded: return the coupons redeemed against it."""
    lines = list(
        RedemptionLine.objects.filter(redemption__order=order, returned_at__isnull=True)
        .select_related("coupon__rule", "redemption__store", "redemption__member")
        .order_by("pk")
    )
    note = f"订单{order.order_no}退单自动退券"
    return return_lines(lines=lines, api_client=api_client, note=note)


def refund_order(*, actor, order: MemberOrder, api_client=None) -> list[RedemptionLine]:
    """The POS reports an order refunded: mark it, and for a client that asked for it
    (auto_return) return the coupons redeemed against it, all in one transaction on the locked
    order, so two reports at once end the same way: the second is told it was already done."""
    with transaction.atomic():
        MemberOrder.objects.select_for_update().filter(pk=order.pk).first()
        if not member_services.mark_order_refunded(actor=actor, order=order):
            back = RedemptionLine.objects.filter(
                redemption__order=order, returned_at__isnull=False
            ).count()
            raise Refused(
                "already_refunded", f"订单{order.order_no}已退单，此前已退券{back}张", 409
            )
        if api_client is None or not api_client.auto_return:
            return []
        return auto_return_order(order=order, api_client=api_client)


def return_coupons(
    *, store: Org, redemption_no: str = "", codes: Sequence[str] = (), api_client=None
) -> list[RedemptionLine]:
    """退券 through the API: every open line of one redemption of this store, or the lines of
    these coupon codes redeemed at this store; all or nothing. A coupon returned before is
    answered as such (已退券), whoever returned it."""
    lines = RedemptionLine.objects.filter(
        redemption__store=store, returned_at__isnull=True
    ).select_related("coupon__rule", "redemption__store", "redemption__member")
    if redemption_no:
        if not Redemption.objects.filter(redemption_no=redemption_no, store=store).exists():
            raise Refused("redemption_not_found", f"核销单{redemption_no}不存在", 404)
        chosen = list(lines.filter(redemption__redemption_no=redemption_no))
        if not chosen:
            raise Refused("already_returned", f"核销单{redemption_no}的券已全部退回（已退券）", 409)
    elif codes:
        codes = list(dict.fromkeys(codes))
        chosen = list(lines.filter(coupon__code__in=codes))
        found = {line.coupon.code for line in chosen}
        for code in codes:
            if code in found:
                continue
            here = RedemptionLine.objects.filter(redemption__store=store, coupon__code=code)
            if here.exists():
                raise Refused("already_returned", f"券{code}：已退券，不能重复退券", 409)
            if not Coupon.objects.filter(code=code).exists():
                raise Refused("coupon_not_found", f"券{code}：券码不存在", 404)
            raise Refused("coupon_not_redeemed", f"券{code}：本店没有该券的核销记录", 409)
    else:
        raise Refused("invalid_request", "请提供 redemption_no 或 codes", 422)
    return return_lines(lines=chosen, api_client=api_client)


# --- order linking --------------------------------------------------------------------------------


def link_order(*, redemption: Redemption, order: MemberOrder, actor=None) -> Redemption:
    """关联订单: attach a redemption to a POS order of the same store, once."""
    if order.store_id != redemption.store_id:
        raise Refused("order_other_store", "订单不是本门店的订单，不能关联", status=409)
    if redemption.member_id and order.member_id and order.member_id != redemption.member_id:
        raise Refused("order_other_member", "订单不属于该会员，不能关联", status=409)
    with transaction.atomic():
        updated = Redemption.objects.filter(pk=redemption.pk, order__isnull=True).update(
            order=order, order_no=order.order_no
        )
        if not updated:
            raise Refused("already_linked", "该核销记录已关联订单", status=409)
        record_audit(
            actor=actor,
            action="redemption.link_order",
            obj=redemption,
            org=redemption.store,
            after={"order_no": order.order_no},
        )
    redemption.refresh_from_db()
    return redemption


def receive_order(*, actor, source: str, **order) -> tuple[MemberOrder, bool]:
    """A POS order arrives: stored once per source and number, and the redemptions the till
    made against its number before it arrived are linked to it, in one transaction."""
    with transaction.atomic():
        stored, created = member_services.record_order(actor=actor, source=source, **order)
        if created:
            link_pending_redemptions(order=stored)
    return stored, created


def link_pending_redemptions(*, order: MemberOrder) -> int:
    """An order pushed after the till redeemed against its number: link those redemptions."""
    return Redemption.objects.filter(
        store=order.store, order_no=order.order_no, order__isnull=True
    ).update(order=order)


# --- the SMS check --------------------------------------------------------------------------------

CODE_TTL = datetime.timedelta(minutes=5)
RESEND_AFTER = datetime.timedelta(seconds=60)
MAX_ATTEMPTS = 5  # wrong tries of one code
DAILY_LIMIT = 10  # codes sent to one phone a day
STORE_DAILY_LIMIT = 1_000  # codes sent from one store a day (a busy store redeems a few hundred)
PURPOSE = "redeem_code"


def _hash(challenge_salt: str, code: str) -> str:
    return salted_hmac("redemption.sms", f"{challenge_salt}:{code}", algorithm="sha256").hexdigest()


def _send_code(challenge: SmsChallenge, store: Org) -> str:
    """Enforce the daily limit (the member row is locked), draw a code, store its hash, send."""
    now = timezone.now()
    today = timezone.localdate(now)
    Member.objects.select_for_update().filter(pk=challenge.member_id).first()
    sent_today = SmsCodeSend.objects.filter(phone=challenge.phone, day=today).count()
    if sent_today >= DAILY_LIMIT:
        raise Refused(
            "daily_limit",
            f"该手机号今日已发送{DAILY_LIMIT}次验证码，已达上限，请明天再试",
            status=409,
        )
    # the store's row serialises its sends, so the store's daily bound holds under concurrency
    Org.objects.select_for_update().filter(pk=store.pk).first()
    if SmsCodeSend.objects.filter(day=today, challenge__store=store).count() >= STORE_DAILY_LIMIT:
        raise Refused(
            "store_daily_limit",
            f"{store.name}今日已发送{STORE_DAILY_LIMIT}次核销验证码，已达上限，请明天再试",
            status=409,
        )
    code = f"{secrets.randbelow(10**6):06d}"
    challenge.code_hash = _hash(str(challenge.pk), code)
    challenge.expires_at = now + CODE_TTL
    challenge.last_sent_at = now
    challenge.attempts = 0
    challenge.save(update_fields=["code_hash", "expires_at", "last_sent_at", "attempts"])
    SmsCodeSend.objects.create(phone=challenge.phone, day=today, challenge=challenge)
    message = send_sms(
        phone=challenge.phone,
        text=f"【{store.name}】您的优惠券核销验证码为{code}，5分钟内有效。如非本人操作请忽略。",
        purpose=PURPOSE,
        params={"code": code},
    )
    if message.status not in ("sent", "pending"):
        raise Refused(
            "sms_failed",
            f"验证码短信未发出：{message.error or message.get_status_display()}",
            status=409,
        )
    return code


def start_sms_challenge(
    *, member: Member, store: Org, coupon_ids: Sequence[int], actor
) -> SmsChallenge:
    """核销优惠券: check the selection (1–20, the member's, usable here) and text the code."""
    ids = sorted(set(int(i) for i in coupon_ids))
    if not ids:
        raise Refused("no_coupons", "请选择要核销的优惠券", status=400)
    if len(ids) > MAX_COUPONS:
        raise Refused(
            "too_many_coupons", f"一次最多核销{MAX_COUPONS}张优惠券，已选{len(ids)}张", status=400
        )
    now = timezone.now()
    coupons = list(
        Coupon.objects.filter(pk__in=ids, member=member).prefetch_related("rule__usable_orgs")
    )
    if len(coupons) != len(ids):
        raise Refused("coupon_not_found", "所选优惠券不属于该会员，请刷新后重选", status=404)
    for coupon in coupons:
        refusal = refusal_for(coupon, store, now)
        if refusal:
            raise refusal
    with transaction.atomic():
        challenge = SmsChallenge.objects.create(
            member=member,
            store=store,
            clerk=actor,
            phone=member.phone,
            coupon_ids=ids,
            code_hash="",
            expires_at=now + CODE_TTL,
            last_sent_at=now,
            created_at=now,
        )
        _send_code(challenge, store)
        record_audit(
            actor=actor,
            action="redemption.sms_sent",
            obj=challenge,
            org=store,
            after={"phone": mask_phone(member.phone), "coupons": ids},
        )
    return challenge


def resend_sms_code(*, challenge: SmsChallenge, actor) -> SmsChallenge:
    now = timezone.now()
    with transaction.atomic():
        challenge = SmsChallenge.objects.select_for_update().get(pk=challenge.pk)
        if challenge.status != SmsChallenge.Status.PENDING:
            raise Refused("challenge_closed", "验证码已失效，请重新点击核销优惠券", status=409)
        wait = RESEND_AFTER - (now - challenge.last_sent_at)
        if wait.total_seconds() > 0:
            raise Refused(
                "resend_too_soon",
                f"验证码发送过于频繁，请{int(wait.total_seconds()) + 1}秒后再试",
                status=409,
            )
        _send_code(challenge, challenge.store)
        record_audit(
            actor=actor, action="redemption.sms_resent", obj=challenge, org=challenge.store
        )
    return challenge


def check_sms_code(
    *, challenge: SmsChallenge, code: str, coupon_ids: Sequence[int], store: Org
) -> None:
    """Check a typed code in its own transaction, so a wrong try stays counted."""
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise Refused("invalid_code", "请输入6位数字验证码", status=400)
    now = timezone.now()
    with transaction.atomic():
        challenge = SmsChallenge.objects.select_for_update().get(pk=challenge.pk)
        if challenge.store_id != store.pk:
            raise Refused("store_changed", "当前门店已切换，请重新核销", status=409)
        if challenge.status == SmsChallenge.Status.USED:
            raise Refused("challenge_used", "该验证码已使用，请重新点击核销优惠券", status=409)
        if challenge.status == SmsChallenge.Status.DEAD or challenge.attempts >= MAX_ATTEMPTS:
            raise Refused(
                "too_many_attempts", f"验证码已输错{MAX_ATTEMPTS}次，已失效，请重新获取", status=409
            )
        if sorted({int(i) for i in coupon_ids}) != challenge.coupon_ids:
            raise Refused("selection_changed", "所选优惠券已变更，请重新获取验证码", status=409)
        if challenge.expires_at < now:
            raise Refused("code_expired", "验证码已过期（5分钟内有效），请重新获取", status=409)
        expected = _hash(str(challenge.pk), code)
        if hmac.compare_digest(expected, challenge.code_hash):
            return
        attempts = challenge.attempts + 1
        dead = attempts >= MAX_ATTEMPTS
        challenge.attempts = attempts
        challenge.status = SmsChallenge.Status.DEAD if dead else SmsChallenge.Status.PENDING
        challenge.save(update_fields=["attempts", "status"])
    if dead:
        raise Refused(
            "too_many_attempts",
            f"验证码错误，已输错{MAX_ATTEMPTS}次，验证码已失效，请重新获取",
            status=400,
        )
    raise Refused("wrong_code", f"验证码错误，还可以再试{MAX_ATTEMPTS - attempts}次", status=400)


def verify_and_redeem(
    *, challenge: SmsChallenge, code: str, coupon_ids: Sequence[int], store: Org, actor, app: str
) -> Redemption:
    """The clerk typed the code: check it, then redeem the selection (all or nothing)."""
    check_sms_code(challenge=challenge, code=code, coupon_ids=coupon_ids, store=store)
    with transaction.atomic():
        used = SmsChallenge.objects.filter(
            pk=challenge.pk, status=SmsChallenge.Status.PENDING
        ).update(status=SmsChallenge.Status.USED)
        if not used:
            raise Refused("challenge_used", "该验证码已使用，请重新点击核销优惠券", status=409)
        return redeem_coupons(
            store=store,
            coupon_ids=challenge.coupon_ids,
            member=challenge.member,
            actor=actor,
            app=app,
            method=Method.SMS,
        )
