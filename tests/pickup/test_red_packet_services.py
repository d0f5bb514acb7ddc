"""Red-packet arithmetic against the account: top-up, generation, clearing, claims, limits."""

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection

from couponhub.core.errors import Refused
from pickup import payouts, services
from pickup.models import (
    PickupCode,
    RedPacketAccount,
    RedPacketClaim,
    RedPacketEntry,
    RedPacketPayout,
    RedPacketSettings,
)
from tests.pickup.factories import CodeBatchFactory, PickupCodeFactory, PickupOrderFactory

pytestmark = pytest.mark.django_db


def adds_up(account=None):
    a = account or RedPacketAccount.load()
    a.refresh_from_db()
    reserved_on_codes = sum(
        PickupCode.objects.filter(
            red_packet_amount__gt=0, red_packet_claim__isnull=True
        ).values_list("red_packet_amount", flat=True),
        Decimal(0),
    )
    spent = sum(RedPacketClaim.objects.values_list("amount", flat=True), Decimal(0))
    assert a.top_ups_total == a.balance + a.reserved + a.spent_total
    assert a.reserved == reserved_on_codes and a.spent_total == spent
    return a


@pytest.fixture
def batch():
    b = CodeBatchFactory(quantity=1000)
    for _ in range(10):
        PickupCodeFactory(batch=b)
    return b


def test_allocation_stays_in_range_and_never_beyond_the_budget():
    rng = random.Random(7)
    for count, low, high, budget in [
        (10, "1", "5", "20"),
        (50, "0.01", "9.99", "100"),
        (3, "2", "2", "6"),
    ]:
        amounts = services.allocate_amounts(
            count, Decimal(low), Decimal(high), Decimal(budget), rng
        )
        assert len(amounts) == count and sum(amounts) <= Decimal(budget)
        assert all(
            Decimal(low) <= a <= Decimal(high) and a == a.quantize(Decimal("0.01")) for a in amounts
        )
    with pytest.raises(Refused, match="至少需要¥10.00"):
        services.allocate_amounts(10, Decimal("1"), Decimal("5"), Decimal("9.99"))


def test_generation_reserves_the_total_and_clearing_returns_it(operator, batch):
    services.top_up_red_packets(actor=operator, amount="30.00", note="微信支付")
    entry = services.generate_red_packets(
        actor=operator, selection={"batch": str(batch.pk)}, low="1.00", high="5.00"
    )
    account = adds_up()
    assert entry.codes == 10 and account.balance == Decimal("30.00") - entry.amount
    amounts = list(PickupCode.objects.values_list("red_packet_amount", flat=True))
    assert all(Decimal("1") <= a <= Decimal("5") for a in amounts) and sum(amounts) == entry.amount
    # a second generation over the same codes finds none without a red packet
    with pytest.raises(Refused, match="没有可分配"):
        services.generate_red_packets(
            actor=operator, selection={"batch": str(batch.pk)}, low="1", high="5"
        )
    first_three = PickupCode.objects.order_by("serial")[:3]
    three = sum(c.red_packet_amount for c in first_three)
    cleared = services.clear_red_packets(
        actor=operator, codes=PickupCode.objects.filter(pk__in=[c.pk for c in first_three])
    )
    assert cleared.amount == three and cleared.kind == RedPacketEntry.Kind.RELEASE
    account = adds_up()
    assert account.balance == Decimal("30.00") - entry.amount + three


def test_generation_refuses_more_than_the_balance(operator, batch):
    services.top_up_red_packets(actor=operator, amount="9.99")
    with pytest.raises(Refused, match="余额"):
        services.generate_red_packets(
            actor=operator, selection={"batch": str(batch.pk)}, low="1", high="5"
        )
    assert adds_up().balance == Decimal("9.99")
    assert not PickupCode.objects.filter(red_packet_amount__gt=0).exists()


def test_generation_with_a_tight_budget_uses_at_most_the_balance(operator, batch):
    services.top_up_red_packets(actor=operator, amount="12.00")
    entry = services.generate_red_packets(
        actor=operator, selection={"batch": str(batch.pk)}, low="1", high="5"
    )
    assert Decimal("10") <= entry.amount <= Decimal("12.00")
    assert adds_up().balance >= 0


def order_with_packet(amount: str, phone: str, card_type=None):
    """A code that got a red packet by generation, then redeemed by `phone`."""
    code = PickupCodeFactory(**({"batch__card_type": card_type} if card_type else {}))
    services.generate_red_packets(
        actor=None, selection={"batch": str(code.batch_id)}, low=amount, high=amount
    )
    delivery = services.Delivery(
        kind="online",
        name="王小二",
        phone=phone,
        province="北京市",
        city="北京市",
        district="朝阳区",
        address="朝阳公园路6号",
    )
    return services.place_order(
        serial=code.serial, product_ids=[], delivery=delivery, client_ip=None
    )


def test_claim_once_within_limits_and_payout_pending(operator):
    services.top_up_red_packets(actor=operator, amount="100")
    config = RedPacketSettings.load()
    config.daily_limit, config.monthly_limit, config.lifetime_limit = 1, 2, 3
    config.save()
    order = order_with_packet("2.00", "13900000001")
    claim = services.claim_red_packet(order=order, client_ip="10.0.0.1", location="31.23,121.47")
    assert claim.amount == Decimal("2.00") and claim.user_phone == "13900000001"
    assert claim.location == "31.23,121.47" and claim.claimed_at
    payout = RedPacketPayout.objects.get(claim=claim)
    assert payout.status == "pending" and payout.backend == payouts.DEFAULT_BACKEND
    account = adds_up()
    assert account.spent_total == Decimal("2.00") and account.balance == Decimal("98.00")
    with pytest.raises(Refused, match="已领取"):
        services.claim_red_packet(order=order)
    # a second code of the same card type, same user, same day: daily limit
    second = order_with_packet("1.50", "13900000001", card_type=order.card_type)
    with pytest.raises(Refused, match="每日领取上限"):
        services.claim_red_packet(order=second)
    # another user is not limited by the first one's claims
    other = order_with_packet("1.00", "13900000002", card_type=order.card_type)
    assert services.claim_red_packet(order=other).amount == Decimal("1.00")
    RedPacketClaim.objects.filter(user_phone="13900000001").update(
        claimed_at=claim.claimed_at.replace(year=2020)
    )
    assert services.claim_red_packet(order=second).amount == Decimal("1.50")
    third = order_with_packet("1.00", "13900000001", card_type=order.card_type)
    RedPacketClaim.objects.filter(user_phone="13900000001").update(
        claimed_at=claim.claimed_at.replace(year=2020)
    )
    assert services.claim_red_packet(order=third)  # 3rd of the lifetime limit of 3
    RedPacketClaim.objects.filter(user_phone="13900000001").update(
        claimed_at=claim.claimed_at.replace(year=2020)
    )
    fourth = order_with_packet("1.00", "13900000001", card_type=order.card_type)
    with pytest.raises(Refused, match="终身领取上限"):
        services.claim_red_packet(order=fourth)
    adds_up()


def test_no_claim_on_a_code_without_red_packet_or_a_cancelled_order():
    with pytest.raises(Refused, match="没有红包"):
        services.claim_red_packet(order=PickupOrderFactory())
    with pytest.raises(Refused, match="已取消"):
        services.claim_red_packet(
            order=PickupOrderFactory(status="cancelled", code__red_packet_amount="1")
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_generations_and_clears_keep_the_account_exact(operator):
    services.top_up_red_packets(actor=operator, amount="100.00")
    batches = []
    for _ in range(6):
        b = CodeBatchFactory(quantity=1000)
        for _ in range(8):
            PickupCodeFactory(batch=b)
        batches.append(b)
    barrier = threading.Barrier(len(batches) * 2)
    errors = []

    def generate(b):
        try:
            barrier.wait()
            services.generate_red_packets(
                actor=None, selection={"card_type": str(b.card_type_id)}, low="1", high="3"
            )
        except Refused as exc:
            errors.append(str(exc))
        finally:
            connection.close()

    def clear(b):
        try:
            barrier.wait()
            services.clear_red_packets(
                actor=None, codes=PickupCode.objects.filter(batch=b, serial__lt=b.serial_start + 4)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=generate, args=(b,)) for b in batches]
    threads += [threading.Thread(target=clear, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    account = adds_up()
    assert account.balance >= 0 and account.top_ups_total == Decimal("100.00")
    assert all("余额" in e for e in errors)


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_code_pay_once(operator):
    services.top_up_red_packets(actor=operator, amount="10")
    order = order_with_packet("3.00", "13900000001")
    barrier, results = threading.Barrier(10), []

    def claim():
        try:
            barrier.wait()
            services.claim_red_packet(order=order)
            results.append("ok")
        except Refused:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and RedPacketPayout.objects.count() == 1
    assert adds_up().spent_total == Decimal("3.00")


def test_many_claims_of_random_amounts_add_up_to_the_fen(operator):
    rng = random.Random(20261126)
    services.top_up_red_packets(actor=operator, amount="1000.07")
    amounts = [Decimal(rng.randint(1, 999)) / 100 for _ in range(40)]
    claimed = []
    for i, amount in enumerate(amounts):
        order = order_with_packet(str(amount), f"139{i:08d}")
        claimed.append(services.claim_red_packet(order=order).amount)
    account = adds_up()
    assert claimed == amounts
    assert account.spent_total == sum(amounts)
    assert account.balance == Decimal("1000.07") - sum(amounts)
    assert account.reserved == 0
