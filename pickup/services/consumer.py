"""Consumers: the code + password check and the order lookup, rate-limited per code (or order)
and per client address; every try is kept in PasswordAttempt."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from couponhub.core.errors import Refused
from pickup.models import PasswordAttempt, PickupCode, PickupOrder
from pickup.selectors import consumer_order

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
    if not code.activated:
        return (
            "not_activated",
            "该提货卡尚未激活：售卡门店收款后才会激活。请联系售卡门店激活后再提货",
        )
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


def _lock_code_key(code: str, client_ip: str) -> None:
    """Serialise the attempts on one code and those from one address (transaction-scoped advisory
    locks, always the code's first), so a burst of guesses counts every earlier guess: at one
    code from many addresses, and at many codes from one address."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", [code])
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 8))", [client_ip])


def _begin_attempt(key: str, client_ip: str) -> PasswordAttempt | None:
    """Record a try on `key` (a code, or "#" + an order number); None when it is locked."""
    now = timezone.now()
    since = now - dt.timedelta(minutes=LOCK_MINUTES)
    with transaction.atomic():
        _lock_code_key(key, client_ip)
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
