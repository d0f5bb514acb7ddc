import datetime

import pytest
from django.utils import timezone

from couponhub.core.errors import Refused
from coupons import selectors, services
from coupons.models import Coupon
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import RegionFactory, StoreFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
Status = Coupon.Status


@pytest.fixture
def tree():
    region = RegionFactory()
    here = StoreFactory(parent=region)
    elsewhere = StoreFactory()
    return region, here, elsewhere


def test_usable_only_in_the_rules_usable_orgs(tree):
    region, here, elsewhere = tree
    coupon = CouponFactory(rule=CouponRuleFactory(usable_orgs=[region]))
    assert coupon.is_usable_at(here)
    assert coupon.unusable_reason(elsewhere) == f"{elsewhere.name}不能使用该券"
    assert list(Coupon.objects.usable_at(here)) == [coupon]
    assert not Coupon.objects.usable_at(elsewhere).exists()


def test_past_valid_to_is_expired_everywhere_at_once(tree):
    region, here, _ = tree
    coupon = CouponFactory(
        rule=CouponRuleFactory(usable_orgs=[region]),
        valid_to=timezone.now() - datetime.timedelta(seconds=1),
    )
    # the stored status is still unused: nobody ran the nightly job
    assert coupon.status == Status.UNUSED
    assert coupon.effective_status() == Status.EXPIRED
    assert coupon.unusable_reason(here) == "券已过期"
    assert list(Coupon.objects.expired()) == [coupon]
    assert Coupon.objects.with_effective_status().get(pk=coupon.pk).effective_status_db == "expired"
    counts = selectors.wallet_counts(coupon.member, here)
    assert counts["expired"] == 1 and counts["usable"] == 0 and counts["unusable"] == 0
    # the nightly tidy-up stores it, and nothing else changes
    assert services.expire_overdue_coupons() == 1
    coupon.refresh_from_db()
    assert coupon.status == Status.EXPIRED


def test_not_yet_valid_and_undistributed_are_not_usable(tree):
    region, here, _ = tree
    rule = CouponRuleFactory(usable_orgs=[region])
    future = CouponFactory(rule=rule, valid_from=timezone.now() + datetime.timedelta(days=1))
    received = CouponFactory(rule=rule, status=Status.RECEIVED, member=None)
    assert future.unusable_reason(here) == "券尚未生效"
    assert received.unusable_reason(here) == "券尚未发放，不能使用"
    assert not Coupon.objects.usable_at(here).exists()


def test_wallet_counts_and_usable_coupons_for(tree):
    region, here, _ = tree
    member = MemberFactory()
    good = CouponRuleFactory(usable_orgs=[region])
    other = CouponRuleFactory(usable_orgs=[StoreFactory()])
    usable = CouponFactory(rule=good, member=member)
    CouponFactory(rule=other, member=member)
    CouponFactory(rule=good, member=member, status=Status.USED, used_at=timezone.now())
    CouponFactory(rule=good, member=member, status=Status.VOIDED)
    CouponFactory(rule=good, member=member, status=Status.FROZEN)
    counts = selectors.wallet_counts(member, here)
    assert counts == {
        "usable": 1,
        "unusable": 1,
        "used": 1,
        "expired": 0,
        "voided": 1,
        "frozen": 1,
        "total": 5,
    }
    assert list(selectors.usable_coupons_for(member, here)) == [usable]


def test_freeze_unfreeze_and_void(tree):
    region, here, _ = tree
    coupon = CouponFactory(rule=CouponRuleFactory(usable_orgs=[region]))
    services.freeze_coupon(actor=None, coupon=coupon)
    assert coupon.status == Status.FROZEN
    assert coupon.unusable_reason(here) == "券已冻结"
    services.unfreeze_coupon(actor=None, coupon=coupon)
    assert coupon.status == Status.UNUSED and coupon.is_usable_at(here)
    services.void_coupon(actor=None, coupon=coupon)
    assert coupon.status == Status.VOIDED
    with pytest.raises(Refused, match="不能冻结"):
        services.freeze_coupon(actor=None, coupon=coupon)


def test_used_coupon_cannot_be_voided(tree):
    coupon = CouponFactory(status=Status.USED, used_at=timezone.now())
    with pytest.raises(Refused, match="不能作废"):
        services.void_coupon(actor=None, coupon=coupon)
