import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry
from coupons.models import Coupon, CouponRule
from redemption import services
from redemption.models import Redemption, RedemptionLine
from redemption.services import Item
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.members.factories import MemberOrderFactory, MemberOrderItemFactory
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.django_db
Status = Coupon.Status


def redeem(store, clerk, coupons, **kw):
    kw.setdefault("app", "门店后台")
    kw.setdefault("method", Redemption.Method.SMS)
    return services.redeem_coupons(
        store=store, coupon_ids=[c.pk for c in coupons], actor=clerk, **kw
    )


def test_redeem_marks_every_coupon_used_and_writes_lines_and_audit(store, rule, member, clerk_user):
    coupons = [CouponFactory(rule=rule, member=member) for _ in range(3)]
    redemption = redeem(store, clerk_user, coupons, member=member)
    assert redemption.redemption_no.startswith("HX")
    assert redemption.member == member and redemption.store == store
    for c in coupons:
        c.refresh_from_db()
        assert c.status == Status.USED and c.used_store == store and c.used_at
    assert RedemptionLine.objects.filter(redemption=redemption).count() == 3
    entry = AuditEntry.objects.get(action="redemption.redeem")
    assert entry.actor == clerk_user and entry.org == store
    assert sorted(entry.after["codes"]) == sorted(c.code for c in coupons)


def test_a_21st_coupon_is_refused_and_nothing_is_redeemed(store, rule, member, clerk_user):
    coupons = [CouponFactory(rule=rule, member=member) for _ in range(21)]
    with pytest.raises(Refused) as exc:
        redeem(store, clerk_user, coupons)
    assert exc.value.code == "too_many_coupons" and "20" in exc.value.message
    assert not Coupon.objects.filter(status=Status.USED).exists()
    assert len(redeem(store, clerk_user, coupons[:20]).redeemed_coupons) == 20


@pytest.mark.parametrize(
    ("change", "code", "reason"),
    [
        ({"status": Status.USED, "used_at": timezone.now()}, "coupon_used", "券已使用"),
        ({"status": Status.FROZEN}, "coupon_frozen", "券已冻结"),
        ({"status": Status.VOIDED}, "coupon_voided", "券已作废"),
        ({"valid_to": timezone.now() - datetime.timedelta(hours=1)}, "coupon_expired", "券已过期"),
        ({"status": Status.RECEIVED}, "coupon_not_active", "券尚未发放"),
    ],
)
def test_all_or_nothing_names_the_coupon_that_stopped_being_usable(
    store, rule, member, clerk_user, change, code, reason
):
    good = CouponFactory(rule=rule, member=member)
    bad = CouponFactory(rule=rule, member=member)
    Coupon.objects.filter(pk=bad.pk).update(**change)
    with pytest.raises(Refused) as exc:
        redeem(store, clerk_user, [good, bad])
    assert exc.value.code == code
    assert bad.code in exc.value.message and reason in exc.value.message
    good.refresh_from_db()
    assert good.status == Status.UNUSED
    assert not Redemption.objects.exists() and not AuditEntry.objects.filter(
        action="redemption.redeem"
    )


def test_a_store_outside_the_rules_usable_orgs_is_refused(store, member, clerk_user):
    rule = CouponRuleFactory()  # usable only in its own creating org
    coupon = CouponFactory(rule=rule, member=member)
    with pytest.raises(Refused) as exc:
        redeem(store, clerk_user, [coupon])
    assert exc.value.code == "store_not_allowed"
    assert f"{store.name}不能使用该券" in exc.value.message


def test_another_members_coupon_is_refused(store, rule, member, clerk_user):
    coupon = CouponFactory(rule=rule)
    with pytest.raises(Refused) as exc:
        redeem(store, clerk_user, [coupon], member=member)
    assert exc.value.code == "coupon_not_members"


def test_codes_that_do_not_exist_are_refused(store, clerk_user):
    with pytest.raises(Refused) as exc:
        services.redeem_coupons(
            store=store, codes=["NOPE1"], actor=clerk_user, app="x", method="api"
        )
    assert exc.value.code == "coupon_not_found" and "NOPE1" in exc.value.message


def test_threshold_and_product_are_checked_against_the_items(store, rule, member, clerk_user):
    coupon = CouponFactory(rule=rule, member=member)  # 满300
    with pytest.raises(Refused) as exc:
        redeem(store, clerk_user, [coupon], items=[Item(sku="A", amount=Decimal("299.99"))])
    assert exc.value.code == "below_threshold"
    product_rule = CouponRuleFactory(
        usable_orgs=[store],
        benefit=CouponRule.Benefit.PRODUCT,
        face_value=None,
        min_order_amount=0,
        exchange_product=ProductFactory(sku="6901234500042", name="煎药费"),
    )
    product = CouponFactory(rule=product_rule, member=member)
    with pytest.raises(Refused) as exc:
        redeem(store, clerk_user, [product], items=[Item(sku="X", amount=Decimal("5"))])
    assert exc.value.code == "product_not_in_order" and "煎药费" in exc.value.message
    r = redeem(
        store,
        clerk_user,
        [coupon, product],
        items=[
            Item(sku="6901234500042", amount=Decimal("5")),
            Item(sku="A", amount=Decimal("300")),
        ],
    )
    assert r.lines.count() == 2


def test_excluded_categories_do_not_count_toward_the_threshold(store, member, clerk_user):
    rule = CouponRuleFactory(
        usable_orgs=[store], min_order_amount=Decimal("100"), excluded_categories=["服务"]
    )
    coupon = CouponFactory(rule=rule, member=member)
    items = [
        Item(sku="A", amount=Decimal("60")),
        Item(sku="B", amount=Decimal("60"), category="服务"),
    ]
    with pytest.raises(Refused) as exc:
        redeem(store, clerk_user, [coupon], items=items)
    assert exc.value.code == "below_threshold"


def test_a_recharge_coupon_tops_up_stored_value_and_its_return_takes_it_back(
    store, member, clerk_user
):
    rule = CouponRuleFactory(
        usable_orgs=[store],
        medium=CouponRule.Medium.PHYSICAL,
        benefit=CouponRule.Benefit.RECHARGE,
        face_value=Decimal("50.00"),
        min_order_amount=0,
    )
    coupon = CouponFactory(rule=rule, member=member, channel=Coupon.Channel.PHYSICAL)
    redemption = redeem(store, clerk_user, [coupon], member=member)
    member.refresh_from_db()
    assert member.stored_value == Decimal("50.00")
    services.return_redemption_line(line=redemption.lines.get(), actor=clerk_user)
    member.refresh_from_db()
    assert member.stored_value == Decimal("0.00")


def test_return_puts_the_coupon_back_once(store, rule, member, clerk_user):
    coupon = CouponFactory(rule=rule, member=member)
    line = redeem(store, clerk_user, [coupon]).lines.get()
    services.return_redemption_line(line=line, actor=clerk_user)
    coupon.refresh_from_db()
    assert coupon.status == Status.UNUSED and coupon.used_at is None
    assert line.returned_at and line.returned_by == clerk_user
    with pytest.raises(Refused) as exc:
        services.return_redemption_line(line=line, actor=clerk_user)
    assert exc.value.code == "already_returned"
    assert AuditEntry.objects.filter(action="redemption.return").count() == 1
    # the coupon can be redeemed again, and returned again through its new line
    line2 = redeem(store, clerk_user, [coupon]).lines.get()
    services.return_redemption_line(line=line2, actor=clerk_user)


def test_a_returned_coupon_past_its_validity_shows_expired(store, rule, member, clerk_user):
    coupon = CouponFactory(rule=rule, member=member)
    line = redeem(store, clerk_user, [coupon]).lines.get()
    Coupon.objects.filter(pk=coupon.pk).update(valid_to=timezone.now() - datetime.timedelta(days=1))
    services.return_redemption_line(line=line, actor=clerk_user)
    coupon.refresh_from_db()
    assert coupon.effective_status() == Status.EXPIRED
    assert not coupon.is_usable_at(store)


def test_link_order_once_and_only_to_this_stores_orders(
    store, other_store, rule, member, clerk_user
):
    redemption = redeem(store, clerk_user, [CouponFactory(rule=rule, member=member)])
    foreign = MemberOrderFactory(store=other_store, member=member)
    with pytest.raises(Refused) as exc:
        services.link_order(redemption=redemption, order=foreign, actor=clerk_user)
    assert exc.value.code == "order_other_store"
    order = MemberOrderFactory(store=store, member=member, total=Decimal("300.00"))
    services.link_order(redemption=redemption, order=order, actor=clerk_user)
    assert redemption.order == order and redemption.order_no == order.order_no
    with pytest.raises(Refused) as exc:
        services.link_order(redemption=redemption, order=order, actor=clerk_user)
    assert exc.value.code == "already_linked"


def test_redeeming_against_an_order_uses_its_items(store, rule, member, clerk_user):
    order = MemberOrderFactory(store=store, member=member)
    MemberOrderItemFactory(order=order, amount=Decimal("100"))
    with pytest.raises(Refused) as exc:
        redeem(store, clerk_user, [CouponFactory(rule=rule, member=member)], order=order)
    assert exc.value.code == "below_threshold"


@pytest.mark.django_db(transaction=True)
def test_fifty_clerks_redeeming_one_coupon_at_once_exactly_one_succeeds(
    store, rule, member, clerk_user
):
    coupon = CouponFactory(rule=rule, member=member)
    barrier = threading.Barrier(50)
    results = []

    def attempt():
        try:
            barrier.wait()
            redeem(store, clerk_user, [coupon], member=member)
            results.append("ok")
        except Refused as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert set(results) - {"ok"} == {"coupon_used"}
    assert RedemptionLine.objects.filter(coupon=coupon).count() == 1
    coupon.refresh_from_db()
    assert coupon.status == Status.USED
