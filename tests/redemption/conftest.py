from decimal import Decimal

import pytest

from couponhub.core.sms import top_up_sms_account
from tests.coupons.factories import CouponRuleFactory
from tests.factories import RegionFactory, StoreFactory, UserFactory
from tests.members.factories import MemberFactory


@pytest.fixture
def store(db):
    return StoreFactory(parent=RegionFactory(), name="蓝港店", code="380")


@pytest.fixture
def other_store(store):
    return StoreFactory(parent=store.parent.parent and RegionFactory(parent=store.parent.parent))


@pytest.fixture
def rule(store):
    """A cash rule usable in the store's region."""
    return CouponRuleFactory(usable_orgs=[store.parent], min_order_amount=Decimal("300"))


@pytest.fixture
def member(db):
    return MemberFactory(phone="17700000516", card_no="5500199339", name="薛定谔的猫")


@pytest.fixture
def clerk_user(db):
    return UserFactory(username="lina_pan")


@pytest.fixture
def sms_balance(db):
    top_up_sms_account(actor=None, amount=Decimal("100"))
