"""Sending SMS through the configured gateway, paid from an SMS account at ¥0.05 a message.

`send_sms` charges the account and logs the message in the caller's transaction; the gateway is
called by `deliver_sms_task` on the "interactive" Celery queue once that transaction commits, so
no row lock is held across a call to the provider, and a bulk job never holds up a verification
code. A worker claims a message before calling the gateway (`sending_at`), so a message delivered
twice by the broker is sent once; one whose worker died mid-call stays "sending", never resent.
With tasks run eagerly (tests, CELERY_TASK_ALWAYS_EAGER) it is sent at once.
"""

import datetime
import hmac
import logging
import secrets
from decimal import Decimal
from functools import cache

from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from couponhub.core.audit import record_audit
from couponhub.core.discovery import app_modules
from couponhub.core.errors import Refused
from couponhub.core.models import SmsAccount, SmsMessage, SmsTopUp, SmsVerification
from couponhub.core.money import to_money
from couponhub.core.sms_backends import SmsResult

DEFAULT_ACCOUNT = "default"

logger = logging.getLogger(__name__)


@cache
def purpose_labels() -> dict[str, str]:
    """What each SMS purpose is called: the apps that send declare theirs as SMS_PURPOSES in
    their audit_actions.py."""
    labels: dict[str, str] = {}
    for module in app_modules("audit_actions"):
        labels.update(getattr(module, "SMS_PURPOSES", {}))
    return labels


def purpose_label(purpose: str) -> str:
    return str(purpose_labels().get(purpose) or _("other purpose"))


def purpose_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in purpose_labels().items()]


def sms_price() -> Decimal:
    return to_money(settings.SMS_PRICE)


@cache
def _backend(path: str):
    from couponhub.core.sms_backends import load_backend

    options = {k: v for k, v in settings.SMS_BACKEND_OPTIONS.items() if v}
    return load_backend(path, options)


def get_backend():
    return _backend(settings.SMS_BACKEND)


def get_account(name: str = DEFAULT_ACCOUNT) -> SmsAccount:
    account, _ = SmsAccount.objects.get_or_create(name=name)
    return account


def send_sms(
    *,
    phone: str,
    text: str,
    purpose: str,
    account_name: str = DEFAULT_ACCOUNT,
    template_code: str = "",
    params: dict | None = None,
) -> SmsMessage:
    """Charge one message, log it and have it sent. An empty balance refuses the send, never the
    caller's own business action: callers check `message.status` (refused, or pending/sent)."""
    price = sms_price()
    account = get_account(account_name)
    with transaction.atomic():
        charged = SmsAccount.objects.filter(pk=account.pk, balance__gte=price).update(
            balance=F("balance") - price
        )
        message = SmsMessage.objects.create(
            account=account,
            phone=phone,
            text=text,
            purpose=purpose,
            template_code=template_code,
            params=params or {},
            status=SmsMessage.Status.PENDING if charged else SmsMessage.Status.REFUSED,
            cost=price if charged else 0,
            error="" if charged else "短信余额不足，未发送",
        )
    if not charged:
        logger.info("sms %s refused: balance too low", message.pk, extra={"purpose": purpose})
        return message
    if current_app.conf.task_always_eager:
        deliver(message.pk)
        message.refresh_from_db()
    else:
        transaction.on_commit(
            lambda: deliver_sms_task.apply_async((message.pk,), queue="interactive")
        )
    return message


@shared_task(name="couponhub.core.tasks.deliver_sms_task")
def deliver_sms_task(message_id: int) -> None:
    deliver(message_id)


def deliver(message_id: int) -> None:
    """Call the gateway for one charged message, once: the first worker to claim it sends it."""
    claimed = SmsMessage.objects.filter(
        pk=message_id, status=SmsMessage.Status.PENDING, sending_at__isnull=True
    ).update(sending_at=timezone.now())
    if not claimed:
        return
    message = SmsMessage.objects.get(pk=message_id)
    try:
        result = get_backend().send(
            phone=message.phone,
            text=message.text,
            template_code=message.template_code,
            params=message.params,
        )
    except Exception:  # a backend bug or an unforeseen network error: failed, fee given back
        logger.exception("sms %s: the gateway backend raised", message.pk)
        result = SmsResult(ok=False, error="短信网关异常，未发送")
    with transaction.atomic():
        if result.ok:
            message.status = SmsMessage.Status.SENT
            message.provider_id = result.provider_id[:100]
        else:
            # The provider did not deliver: give the fee back.
            SmsAccount.objects.filter(pk=message.account_id).update(
                balance=F("balance") + message.cost
            )
            message.status = SmsMessage.Status.FAILED
            message.cost = 0
            message.error = result.error[:300]
        message.save(update_fields=["status", "provider_id", "cost", "error"])
    logger.info("sms %s %s", message.pk, message.status, extra={"purpose": message.purpose})


def top_up_sms_account(
    *, actor, amount: Decimal, note: str = "", account_name: str = DEFAULT_ACCOUNT
) -> SmsTopUp:
    amount = to_money(amount)
    if amount <= 0:
        raise ValueError("充值金额必须大于0")
    with transaction.atomic():
        account = get_account(account_name)
        before = account.balance
        SmsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
        account.refresh_from_db(fields=["balance"])
        top_up = SmsTopUp.objects.create(account=account, amount=amount, actor=actor, note=note)
        record_audit(
            actor=actor,
            action="sms.top_up",
            obj=account,
            before={"balance": before},
            after={"balance": account.balance},
            note=note,
        )
    return top_up


# --- verification codes ---------------------------------------------------------------------
# A six-digit code proves that the person at the counter holds a phone. Bounds as the counter's
# redemption code (docs/architecture.md, "Guessing bounds"): 5 wrong tries kill a code, it lives
# 5 minutes, a new one only after 60 s, at most 10 a day per phone and purpose.

CODE_TTL = datetime.timedelta(minutes=5)
CODE_RESEND_AFTER = datetime.timedelta(seconds=60)
CODE_MAX_ATTEMPTS = 5
CODE_DAILY_LIMIT = 10


def _code_hash(verification_id: int, code: str) -> str:
    return salted_hmac(
        "core.sms_verification", f"{verification_id}:{code}", algorithm="sha256"
    ).hexdigest()


def send_verification_code(*, phone: str, purpose: str, subject: str, text: str) -> SmsVerification:
    """Text a new code to `phone`; `text` holds `{code}`. Refused (with the reason) inside the
    resend wait or past the daily limit, and when the message could not be sent."""
    now = timezone.now()
    with transaction.atomic():
        # one phone's sends are serialised on its newest verification row
        sent = SmsVerification.objects.select_for_update().filter(
            phone=phone, purpose=purpose, created_at__gte=now - datetime.timedelta(days=1)
        )
        latest = sent.order_by("-created_at").first()
        if latest and latest.subject == subject and now - latest.created_at < CODE_RESEND_AFTER:
            wait = int((CODE_RESEND_AFTER - (now - latest.created_at)).total_seconds()) + 1
            raise Refused("resend_too_soon", f"验证码已发送，请{wait}秒后再重新发送", 409)
        if sent.filter(created_at__date=timezone.localdate(now)).count() >= CODE_DAILY_LIMIT:
            raise Refused(
                "daily_limit", f"该手机号今日已发送{CODE_DAILY_LIMIT}次验证码，请明天再试", 409
            )
        code = f"{secrets.randbelow(10**6):06d}"
        verification = SmsVerification.objects.create(
            phone=phone,
            purpose=purpose,
            subject=subject,
            code_hash="",
            expires_at=now + CODE_TTL,
        )
        verification.code_hash = _code_hash(verification.pk, code)
        verification.save(update_fields=["code_hash"])
    message = send_sms(phone=phone, text=text.format(code=code), purpose=purpose)
    if message.status not in (SmsMessage.Status.SENT, SmsMessage.Status.PENDING):
        # nobody received it: it neither holds back the next send nor counts towards the day's
        SmsVerification.objects.filter(pk=verification.pk).delete()
        raise Refused(
            "sms_failed",
            f"验证码短信未发出：{message.error or message.get_status_display()}",
            409,
        )
    return verification


def check_verification_code(*, phone: str, purpose: str, subject: str, code: str) -> None:
    """Spend the newest live code for (phone, purpose, subject), or refuse saying why.

    Call it before (not inside) the transaction of the action it guards: a wrong try is counted
    in its own transaction, which a caller's rollback must not undo."""
    # durable: called inside another transaction it fails loudly instead of losing the count
    with transaction.atomic(durable=True):
        refusal = _check_code(phone=phone, purpose=purpose, subject=subject, code=code)
    if refusal is not None:
        raise refusal


def _check_code(*, phone: str, purpose: str, subject: str, code: str) -> Refused | None:
    now = timezone.now()
    verification = (
        SmsVerification.objects.select_for_update()
        .filter(phone=phone, purpose=purpose, subject=subject, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if verification is None:
        raise Refused("no_code", "请先向该手机号发送验证码", 409)
    if verification.expires_at < now or verification.attempts >= CODE_MAX_ATTEMPTS:
        raise Refused("code_expired", "验证码已失效，请重新发送", 409)
    if not hmac.compare_digest(verification.code_hash, _code_hash(verification.pk, code.strip())):
        SmsVerification.objects.filter(pk=verification.pk).update(attempts=F("attempts") + 1)
        left = CODE_MAX_ATTEMPTS - verification.attempts - 1
        return Refused(
            "wrong_code",
            f"验证码不正确，还可以再试{left}次"
            if left > 0
            else "验证码不正确，验证码已失效，请重新发送",
            400,
        )
    verification.used_at = now
    verification.save(update_fields=["used_at"])
    return None
