"""优惠券核销记录 (seed 000): the 全业态 / org-scope selector; 会员信息 by part of a name, a card
number or the last four phone digits; 券码 regardless of case."""

import pytest

from couponhub.core.models import RoleAssignment
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import RegionFactory, StoreFactory, user_with_role
from tests.members.factories import MemberFactory
from tests.redemption.factories import RedemptionLineFactory

pytestmark = pytest.mark.django_db
URL = "/redemption/records/"


@pytest.fixture
def region():
    return RegionFactory(name="零售")


@pytest.fixture
def stores(region):
    return StoreFactory(parent=region, name="蓝港店", code="380"), StoreFactory(
        parent=region, name="国贸店", code="501"
    )


@pytest.fixture
def manager(client, region):
    user = user_with_role(RoleAssignment.Role.HQ, region)
    client.force_login(user)
    return user


def line_at(store, member, code):
    coupon = CouponFactory(rule=CouponRuleFactory(usable_orgs=[store]), member=member, code=code)
    return RedemptionLineFactory(coupon=coupon, redemption__store=store, redemption__member=member)


def test_the_org_selector_offers_all_business_lines_and_the_nodes_in_scope(client, manager, stores):
    a, b = stores
    mine = line_at(a, MemberFactory(), "RX8C3E01")
    theirs = line_at(b, MemberFactory(), "RX8C3E02")
    page = client.get(URL).content.decode()
    assert "全业态" in page and "蓝港店-零售-380" in page and "国贸店-零售-501" in page
    assert mine.coupon.code in page and theirs.coupon.code in page
    only_a = client.get(URL, {"org": a.pk}).content.decode()
    assert mine.coupon.code in only_a and theirs.coupon.code not in only_a
    outside = StoreFactory()
    assert client.get(URL, {"org": outside.pk}).status_code == 200  # not offered: ignored
    assert "蓝港店-零售-380" in client.get(URL, {"org": a.parent.pk}).content.decode()


def test_member_information_matches_part_of_a_name_a_card_or_the_last_four_phone_digits(
    client, manager, stores
):
    cat = MemberFactory(name="薛定谔的猫", card_no="5500199339", phone="17700000516")
    dog = MemberFactory(name="那你能", card_no="5500100001", phone="17500008870")
    line_cat = line_at(stores[0], cat, "CAT00001")
    line_dog = line_at(stores[0], dog, "DOG00001")
    for query in ("薛定谔", "5500199339", "0516", "17700000516"):
        page = client.get(URL, {"member": query}).content.decode()
        assert line_cat.coupon.code in page and line_dog.coupon.code not in page, query
    assert line_dog.coupon.code in client.get(URL, {"member": "8870"}).content.decode()


def test_the_coupon_code_matches_regardless_of_case(client, manager, stores):
    line = line_at(stores[0], MemberFactory(), "N5825JJD")
    assert line.coupon.code in client.get(URL, {"code": "n5825jjd"}).content.decode()
    assert line.coupon.code not in client.get(URL, {"code": "n5825jj"}).content.decode()


def test_outside_coupon_redemptions_are_rows_with_their_consumption_number(client, manager, stores):
    from redemption import outside
    from tests.redemption.factories import OutsideCouponFactory, OutsideProductMappingFactory

    a, b = stores
    ours = line_at(a, MemberFactory(), "RX8C3E09")
    mapping = OutsideProductMappingFactory(activity__stores=[a, b], activity__name="100元代金券")
    theirs = OutsideCouponFactory(mapping=mapping, code="J880777", phone="18100004469")
    outside.redeem_outside_coupon(
        code=theirs.code, store=a, items=None, order_no="19315:194501", operator="lina_pan"
    )
    elsewhere = OutsideCouponFactory(mapping=mapping, code="J880778")
    outside.redeem_outside_coupon(code=elsewhere.code, store=b, items=None, operator="x")
    unused = OutsideCouponFactory(mapping=mapping, code="J880779")
    page = client.get(URL).content.decode()
    assert ours.coupon.code in page and "J880777" in page and "消费号" in page
    # (HQ sees whole phone numbers)
    assert "100元代金券" in page and "19315:194501" in page and "18100004469" in page
    assert "J880778" in page and unused.code not in page  # never redeemed: no row
    # the same filters hold for them
    only_a = client.get(URL, {"org": a.pk}).content.decode()
    assert "J880777" in only_a and "J880778" not in only_a
    by_code = client.get(URL, {"code": "j880777"}).content.decode()
    assert "J880777" in by_code and ours.coupon.code not in by_code
    assert "J880777" in client.get(URL, {"code": "880777"}).content.decode()
    assert "J880777" in client.get(URL, {"member": "4469"}).content.decode()
    assert "J880777" not in client.get(URL, {"method": "sms"}).content.decode()
    assert "J880777" not in client.get(URL, {"state": "returned"}).content.decode()
    named = client.get(URL, {"coupon_name": "代金"}).content.decode()
    assert "J880777" in named and ours.coupon.code not in named


def test_outside_rows_stay_inside_the_users_scope(client, stores):
    from redemption import outside
    from tests.redemption.factories import OutsideCouponFactory, OutsideProductMappingFactory

    a, b = stores
    client.force_login(user_with_role(RoleAssignment.Role.CLERK, a))
    mapping = OutsideProductMappingFactory(activity__stores=[a, b])
    there = OutsideCouponFactory(mapping=mapping, code="J880780")
    outside.redeem_outside_coupon(code=there.code, store=b, items=None, operator="x")
    assert "J880780" not in client.get(URL).content.decode()
