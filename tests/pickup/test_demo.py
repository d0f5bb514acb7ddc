import io

import pytest

from pickup import demo
from pickup.models import CardType, PickupCode

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_prints_a_code_to_try():
    out = io.StringIO()
    demo.seed(out)
    demo.seed(out)
    assert set(CardType.objects.values_list("name", flat=True)) == {"2388套餐", "3888套餐"}
    assert PickupCode.objects.count() == 50
    code = PickupCode.objects.first()
    assert f"/pickup/c/{code.code}/" in out.getvalue() or "try code" in out.getvalue()


def test_seed_has_orders_in_every_state_and_a_red_packet():
    from couponhub.core import demo as core_demo
    from pickup.models import PickupOrder, RedPacketAccount

    out = io.StringIO()
    core_demo.seed(out)
    demo.seed(out)
    demo.seed(out)
    states = set(PickupOrder.objects.values_list("kind", "status"))
    assert {
        ("online", "pending"),
        ("online", "shipped"),
        ("online", "completed"),
        ("online", "cancelled"),
        ("store", "pending"),
        ("store", "completed"),
    } <= states
    assert PickupOrder.objects.exclude(deleted_at=None).count() == 1
    packet = PickupCode.objects.get(red_packet_amount__gt=0)
    account = RedPacketAccount.load()
    assert account.reserved == packet.red_packet_amount
    assert account.top_ups_total == account.balance + account.reserved
    assert f"code {packet.code} password {packet.password}" in out.getvalue()
