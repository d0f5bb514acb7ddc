"""The counter's SMS check: a code texted to the member's phone, typed back by the clerk, then the
selected coupons are redeemed. The bounds on guessing are the constants below
(docs/architecture.md, "Guessing bounds")."""

import datetime
import hmac
import secrets
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.models import Org
from couponhub.core.permissions import mask_phone
from couponhub.core.sms import send_sms
from coupons.models import Coupon
from members.models import Member, MemberOrder
from redemption.models import MAX_COUPONS, Redemption, SmsChallenge, SmsCodeSend
from redemption.services.redeem import check_order_fit, redeem_coupons, refusal_for

Method = Redemption.Method


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


def _check_chosen_order(order: MemberOrder, *, member: Member, store: Org) -> None:
    if order.store_id != store.pk:
        raise Refused("order_other_store", "订单不是本门店的订单，不能关联", status=409)
    if order.member_id and order.member_id != member.pk:
        raise Refused("order_other_member", "订单不属于该会员，不能关联", status=409)
    if order.status == MemberOrder.Status.REFUNDED:
        raise Refused("order_refunded", f"订单{order.order_no}已退单，不能关联", status=409)


def start_sms_challenge(
    *,
    member: Member,
    store: Org,
    coupon_ids: Sequence[int],
    actor,
    order: MemberOrder | None = None,
) -> SmsChallenge:
    """核销优惠券: check the selection (1–20, the member's, usable here, fitting the `order`
    when one is chosen up front) and text the code."""
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
    if order is not None:
        _check_chosen_order(order, member=member, store=store)
        check_order_fit(sorted(coupons, key=lambda c: c.pk), order=order)
    with transaction.atomic():
        challenge = SmsChallenge.objects.create(
            member=member,
            store=store,
            clerk=actor,
            phone=member.phone,
            coupon_ids=ids,
            order=order,
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
            after={
                "phone": mask_phone(member.phone),
                "coupons": ids,
                "order_no": order.order_no if order else None,
            },
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
    """The clerk typed the code: check it, then redeem the selection (all or nothing), against
    the order chosen up front when there is one (checked again: it may have been refunded)."""
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
            # read afresh: the order may have been refunded since the code was sent
            order=MemberOrder.objects.filter(pk=challenge.order_id).first()
            if challenge.order_id
            else None,
        )
