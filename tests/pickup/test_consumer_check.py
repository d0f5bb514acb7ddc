"""The consumer's code + password check: answers, lock-out per code and per client address."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from pickup import services
from pickup.models import PasswordAttempt
from tests.pickup.factories import CardTypeFactory, PickupCodeFactory

pytestmark = pytest.mark.django_db


def check(code, password, ip="10.0.0.1"):
    return services.check_code_password(code=code, password=password, client_ip=ip)


def test_right_password_ok_and_code_normalised():
    code = PickupCodeFactory(code="TC0000000042", password="12345678")
    result = check(" tc00-0000 0042 ", "12345678")
    assert result.ok and result.code == code


def test_wrong_password_and_unknown_code_get_the_same_answer():
    PickupCodeFactory(code="TC0000000042", password="12345678")
    wrong, unknown = check("TC0000000042", "00000000"), check("NOSUCHCODE1", "00000000")
    assert (wrong.reason, wrong.message) == (unknown.reason, unknown.message)
    assert wrong.reason == "wrong" and wrong.code is None and unknown.code is None


def test_disabled_used_expired_and_not_yet_have_their_own_messages():
    today = timezone.localdate()
    disabled = PickupCodeFactory(enabled=False, password="11111111")
    used = PickupCodeFactory(status="used", password="22222222")
    expired = PickupCodeFactory(
        batch__card_type=CardTypeFactory(valid_until=today - dt.timedelta(days=1)),
        password="33333333",
    )
    later = PickupCodeFactory(
        batch__card_type=CardTypeFactory(valid_from=today + dt.timedelta(days=3)),
        password="44444444",
    )
    answers = {
        c.code: check(c.code, p)
        for c, p in [
            (disabled, "11111111"),
            (used, "22222222"),
            (expired, "33333333"),
            (later, "44444444"),
        ]
    }
    assert [a.reason for a in answers.values()] == ["disabled", "used", "expired", "not_yet"]
    assert "已停用" in answers[disabled.code].message
    assert "已使用" in answers[used.code].message
    assert "已过期" in answers[expired.code].message
    assert "起才能提货" in answers[later.code].message


def test_five_wrong_tries_lock_the_code_for_15_minutes_even_with_the_right_password():
    code = PickupCodeFactory(password="12345678")
    for i in range(5):
        assert check(code.code, f"0000000{i}", ip=f"10.0.0.{i}").reason == "wrong"
    locked = check(code.code, "12345678", ip="10.9.9.9")
    assert locked.reason == "locked" and "15分钟" in locked.message
    # an unknown code locks the same way: the page tells nothing about existence
    for i in range(5):
        check("NOSUCHCODE1", "x", ip=f"10.1.0.{i}")
    assert check("NOSUCHCODE1", "x", ip="10.1.9.9").message == locked.message
    # 15 minutes after the wrong tries the code opens again
    PasswordAttempt.objects.filter(code=code.code).update(
        created_at=timezone.now() - dt.timedelta(minutes=15, seconds=1)
    )
    assert check(code.code, "12345678").ok


def test_one_address_guessing_many_codes_is_locked():
    codes = PickupCodeFactory.create_batch(3, password="12345678")
    for i in range(services.MAX_IP_FAILURES):
        assert check(f"GUESS{i:06d}", "x", ip="10.7.7.7").reason == "wrong"
    assert check(codes[0].code, "12345678", ip="10.7.7.7").reason == "locked"
    assert check(codes[0].code, "12345678", ip="10.7.7.8").ok


def test_locked_tries_do_not_prolong_the_lock():
    code = PickupCodeFactory(password="12345678")
    for _ in range(5):
        check(code.code, "bad")
    for _ in range(10):
        assert check(code.code, "bad").reason == "locked"
    assert PasswordAttempt.objects.filter(code=code.code, outcome="failed").count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_guesses_on_one_code_gets_five_tries_at_most():
    code = PickupCodeFactory(password="12345678")
    reasons, barrier = [], threading.Barrier(20)

    def guess(i):
        try:
            barrier.wait()
            reasons.append(check(code.code, f"{i:08d}", ip=f"10.3.{i}.1").reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i + 100,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(reasons)) == ["locked", "wrong"]
    assert reasons.count("wrong") == 5 and reasons.count("locked") == 15


@pytest.mark.django_db(transaction=True)
def test_a_burst_from_one_address_over_many_codes_gets_the_address_limit_at_most():
    # 50 guesses at once from one address, each at a different code: the per-code lock does not
    # serialise them, yet the address may make only MAX_IP_FAILURES tries in the window
    reasons, barrier = [], threading.Barrier(50)

    def guess(i):
        try:
            barrier.wait()
            reasons.append(check(f"BURST{i:06d}", "x", ip="10.9.9.9").reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reasons.count("wrong") == services.MAX_IP_FAILURES
    assert reasons.count("locked") == 50 - services.MAX_IP_FAILURES
