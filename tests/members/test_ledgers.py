from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from members import services
from members.models import Member, StoredValueEntry, UValueEntry
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_credit_and_debit_write_entry_and_cached_balance():
    # given a member with no U-value
    member = MemberFactory()
    # when U-value is added then partly spent
    services.change_u_value(member=member, delta=500, reason="消费赠送")
    entry = services.change_u_value(member=member, delta=-200, reason="兑换")
    # then the cached balance and the entries agree
    member.refresh_from_db()
    assert member.u_value == 300
    assert entry.balance_after == 300
    assert list(UValueEntry.objects.filter(member=member).values_list("delta", flat=True)) == [
        -200,
        500,
    ]


def test_debit_beyond_balance_is_refused_and_writes_nothing():
    member = MemberFactory()
    services.change_points(member=member, delta=5, reason="赠送")
    with pytest.raises(services.InsufficientBalance, match="积分不足"):
        services.change_points(member=member, delta=-6, reason="扣减")
    member.refresh_from_db()
    assert member.points == 5
    assert member.points_entries.count() == 1


def test_stored_value_credit_is_money():
    member = MemberFactory()
    services.credit_stored_value(member=member, amount="100.005", reason="充值券")
    services.debit_stored_value(member=member, amount=Decimal("0.01"), reason="消费")
    member.refresh_from_db()
    assert member.stored_value == Decimal("100.00")
    assert StoredValueEntry.objects.filter(member=member).count() == 2


def test_database_refuses_a_negative_balance():
    member = MemberFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(u_value=-1)


def test_ledger_entries_are_append_only():
    member = MemberFactory()
    entry = services.change_u_value(member=member, delta=10, reason="赠送")
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        UValueEntry.objects.filter(pk=entry.pk).update(delta=20)
    with pytest.raises(PermissionError):
        entry.delete()
