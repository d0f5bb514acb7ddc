"""Sending SMS through the configured gateway, paid from an SMS account at ¥0.05 a message."""

from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from couponhub.core.audit import record_audit
from couponhub.core.discovery import app_modules
from couponhub.core.models import SmsAccount, SmsMessage, SmsTopUp
from couponhub.core.money import to_money

DEFAULT_ACCOUNT = "default"


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
    """Charge one message, send it, and log it. An empty balance refuses the send, never the
    caller's own business action: callers check `message.status`."""
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
            status=SmsMessage.Status.PENDING if charged else SmsMessage.Status.REFUSED,
            cost=price if charged else 0,
            error="" if charged else "短信余额不足，未发送",
        )
    if not charged:
        return message
    result = get_backend().send(
        phone=phone, text=text, template_code=template_code, params=params or {}
    )
    with transaction.atomic():
        if result.ok:
            message.status = SmsMessage.Status.SENT
            message.provider_id = result.provider_id[:100]
        else:
            # The provider did not deliver: give the fee back.
            SmsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + price)
            message.status = SmsMessage.Status.FAILED
            message.cost = 0
            message.error = result.error[:300]
        message.save(update_fields=["status", "provider_id", "cost", "error"])
    return message


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
