"""A coupon is never redeemed against an order it does not fit (seed 000, issue 16): thresholds,
excluded categories and product coupons are checked whenever the order is known — chosen before
the SMS check, or linked afterwards."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.models import RoleAssignment
from coupons.models import Coupon, CouponRule
from redemption import services
from redemption.models import Redemption, SmsChallenge
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import user_with_role
from tests.members.factories import MemberOrderFactory, MemberOrderItemFactory
from tests.products.factories import ProductFactory
from tests.redemption.factories import RedemptionFactory, RedemptionLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client, store):
    user = user_with_role(RoleAssignment.Role.CLERK, store, username="lina_pan")
    client.force_login(user)
    return user


def code_in(outbox):
    return re.search(r"验证码为(\d{6})", outbox[-1]["text"]).group(1)


def test_linking_two_300_coupons_to_a_133_order_is_refused_naming_coupon_and_shortfall(
    client, clerk, store, member, rule
):
    # given a redemption of two 满300可用 coupons, not yet linked
    redemption = RedemptionFactory(store=store, member=member, clerk=clerk)
    first = RedemptionLineFactory(redemption=redemption, coupon__rule=rule, coupon__member=member)
    RedemptionLineFactory(redemption=redemption, coupon__rule=rule, coupon__member=member)
    order = MemberOrderFactory(store=store, member=member, total=Decimal("133.00"))
    # when the clerk links the ¥133 order
    url = reverse("redemption:link", args=[redemption.pk])
    response = client.post(url, {"order": order.pk})
    # then it is refused, saying which coupon and how much is missing
    page = response.content.decode()
    assert response.status_code == 400
    assert f"券{first.coupon.code}" in page or "券" in page
    assert "未满300.00元，还差167.00元，不能关联该订单" in page
    redemption.refresh_from_db()
    assert redemption.order is None and redemption.order_no == ""


def test_link_order_service_checks_items_and_excluded_categories(store, member, clerk_user):
    rule = CouponRuleFactory(
        usable_orgs=[store], min_order_amount=Decimal("100"), excluded_categories=["服务"]
    )
    redemption = RedemptionFactory(store=store, member=member, clerk=clerk_user)
    line = RedemptionLineFactory(redemption=redemption, coupon__rule=rule, coupon__member=member)
    order = MemberOrderFactory(store=store, member=member, total=Decimal("160.00"))
    MemberOrderItemFactory(order=order, amount=Decimal("60.00"), category="中药饮片")
    MemberOrderItemFactory(order=order, amount=Decimal("100.00"), category="服务")
    with pytest.raises(Refused) as exc:
        services.link_order(redemption=redemption, order=order, actor=clerk_user)
    assert exc.value.code == "below_threshold"
    assert exc.value.message == (
        f"券{line.coupon.code}：订单可用金额60.00元未满100.00元，还差40.00元，不能关联该订单"
    )
    # an order that fits is linked
    fits = MemberOrderFactory(store=store, member=member, total=Decimal("100.00"))
    MemberOrderItemFactory(order=fits, amount=Decimal("100.00"), category="中药饮片")
    services.link_order(redemption=redemption, order=fits, actor=clerk_user)
    redemption.refresh_from_db()
    assert redemption.order == fits


def test_a_returned_line_does_not_block_the_link(store, member, clerk_user, rule):
    redemption = RedemptionFactory(store=store, member=member, clerk=clerk_user)
    RedemptionLineFactory(
        redemption=redemption, coupon__rule=rule, returned_at="2026-01-01T00:00:00+08:00"
    )
    order = MemberOrderFactory(store=store, member=member, total=Decimal("10.00"))
    services.link_order(redemption=redemption, order=order, actor=clerk_user)
    assert Redemption.objects.get(pk=redemption.pk).order == order


def test_a_product_coupon_needs_its_product_in_the_linked_order(store, member, clerk_user):
    rule = CouponRuleFactory(
        usable_orgs=[store],
        benefit=CouponRule.Benefit.PRODUCT,
        face_value=None,
        min_order_amount=0,
        exchange_product=ProductFactory(sku="6901234500042", name="煎药费"),
    )
    redemption = RedemptionFactory(store=store, member=member, clerk=clerk_user)
    RedemptionLineFactory(redemption=redemption, coupon__rule=rule, coupon__member=member)
    without = MemberOrderFactory(store=store, member=member, total=Decimal("50.00"))
    MemberOrderItemFactory(order=without, sku="OTHER")
    with pytest.raises(Refused) as exc:
        services.link_order(redemption=redemption, order=without, actor=clerk_user)
    assert exc.value.code == "product_not_in_order" and "煎药费" in exc.value.message
    no_items = MemberOrderFactory(store=store, member=member, total=Decimal("50.00"))
    with pytest.raises(Refused):
        services.link_order(redemption=redemption, order=no_items, actor=clerk_user)
    with_it = MemberOrderFactory(store=store, member=member)
    MemberOrderItemFactory(order=with_it, sku="6901234500042")
    services.link_order(redemption=redemption, order=with_it, actor=clerk_user)


def test_a_refunded_order_cannot_be_linked(store, member, clerk_user):
    redemption = RedemptionFactory(store=store, member=member, clerk=clerk_user)
    RedemptionLineFactory(redemption=redemption)
    order = MemberOrderFactory(store=store, member=member, status="refunded")
    with pytest.raises(Refused) as exc:
        services.link_order(redemption=redemption, order=order, actor=clerk_user)
    assert exc.value.code == "order_refunded"


def test_an_order_chosen_before_the_sms_check_that_does_not_fit_sends_no_code(
    client, clerk, store, member, rule, sms_balance, sms_outbox
):
    coupons = [CouponFactory(rule=rule, member=member) for _ in range(2)]
    order = MemberOrderFactory(store=store, member=member, total=Decimal("133.00"))
    # the usable tab offers the member's orders here
    page = client.get(reverse("redemption:lookup"), {"q": member.phone}).content.decode()
    assert 'name="order"' in page and order.order_no in page and "暂不关联订单" in page
    response = client.post(
        reverse("redemption:start"),
        {
            "member": member.pk,
            "q": member.phone,
            "coupon": [c.pk for c in coupons],
            "order": order.pk,
        },
    )
    assert response.status_code == 302
    shown = client.get(response["Location"]).content.decode()
    assert "未满300.00元，还差167.00元，不能使用" in shown
    assert f'value="{order.pk}" selected' in shown
    assert not SmsChallenge.objects.exists() and sms_outbox == []
    assert not Coupon.objects.filter(status="used").exists()


def test_an_order_chosen_before_the_sms_check_is_linked_on_the_right_code(
    client, clerk, store, member, rule, sms_balance, sms_outbox
):
    coupons = [CouponFactory(rule=rule, member=member) for _ in range(2)]
    order = MemberOrderFactory(store=store, member=member, total=Decimal("350.00"))
    response = client.post(
        reverse("redemption:start"),
        {
            "member": member.pk,
            "q": member.phone,
            "coupon": [c.pk for c in coupons],
            "order": order.pk,
        },
    )
    challenge = SmsChallenge.objects.get()
    assert challenge.order == order
    verify = client.get(response["Location"]).content.decode()
    assert order.order_no in verify
    body = {"code": code_in(sms_outbox), "coupon": [c.pk for c in coupons], "q": member.phone}
    done = client.post(response["Location"], body)
    redemption = Redemption.objects.get()
    assert done.status_code == 302 and f"/{redemption.pk}/receipt/" in done["Location"]
    assert redemption.order == order and redemption.order_no == order.order_no


def test_an_order_refunded_between_code_and_check_is_refused(
    store, member, rule, clerk_user, sms_balance, sms_outbox
):
    coupon = CouponFactory(rule=rule, member=member)
    order = MemberOrderFactory(store=store, member=member, total=Decimal("350.00"))
    challenge = services.start_sms_challenge(
        member=member, store=store, coupon_ids=[coupon.pk], actor=clerk_user, order=order
    )
    type(order).objects.filter(pk=order.pk).update(status="refunded")
    with pytest.raises(Refused) as exc:
        services.verify_and_redeem(
            challenge=challenge,
            code=code_in(sms_outbox),
            coupon_ids=[coupon.pk],
            store=store,
            actor=clerk_user,
            app="门店后台",
        )
    assert exc.value.code == "order_refunded"
    coupon.refresh_from_db()
    assert coupon.status == "unused"


def test_an_order_without_items_is_measured_by_its_total_at_the_till(
    store, rule, member, clerk_user
):
    coupon = CouponFactory(rule=rule, member=member)
    small = MemberOrderFactory(store=store, member=member, total=Decimal("133.00"))
    with pytest.raises(Refused) as exc:
        services.redeem_coupons(
            store=store,
            coupon_ids=[coupon.pk],
            actor=clerk_user,
            app="x",
            method="sms",
            order=small,
        )
    assert exc.value.code == "below_threshold" and "还差167.00元" in exc.value.message
    big = MemberOrderFactory(store=store, member=member, total=Decimal("300.00"))
    r = services.redeem_coupons(
        store=store, coupon_ids=[coupon.pk], actor=clerk_user, app="x", method="sms", order=big
    )
    assert r.order == big


def test_skipping_the_order_leaves_the_redemption_unlinked_on_the_records_page(
    client, clerk, store, member, rule
):
    redemption = RedemptionFactory(store=store, member=member, clerk=clerk)
    RedemptionLineFactory(redemption=redemption, coupon__rule=rule)
    client.post(reverse("redemption:link", args=[redemption.pk]), {"skip": 1, "flow": 1})
    records = client.get(reverse("redemption:records")).content.decode()
    assert "未关联订单" in records
