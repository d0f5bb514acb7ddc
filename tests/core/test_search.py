"""The header's one search box: each kind of number opens its thing, within the user's
permission and scope; outside them it is as absent as a number that does not exist."""

import pytest
from django.urls import reverse

from couponhub.core.models import AuditEntry
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role
from tests.members.factories import MemberFactory, MemberOrderFactory
from tests.pickup.factories import PickupCodeFactory, PickupStoreFactory, StoreOrderFactory
from tests.promocodes.factories import PromoCodeFactory
from tests.redemption.factories import (
    OutsideCouponFactory,
    RedemptionFactory,
    RedemptionLineFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    group = OrgFactory()
    region = RegionFactory(parent=group)
    return {
        "group": group,
        "store": StoreFactory(parent=region, name="蓝港店"),
        "other": StoreFactory(parent=region, name="望京店"),
    }


def _search(client, q):
    return client.get(reverse("core:search"), {"q": q})


def _not_found(response, q):
    page = response.content.decode()
    return response.status_code == 200 and f"没有找到您可以查看的“{q}”" in page


def test_the_header_carries_the_search_box(client, tree):
    client.force_login(user_with_role(Role.CLERK, tree["store"]))
    page = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("core:search")}"' in page


def test_a_clerk_finds_members_orders_and_redemptions_of_their_store_only(client, tree):
    member = MemberFactory(phone="17700000516", card_no="5500199339")
    MemberOrderFactory(member=member, store=tree["store"], order_no="ORD-HERE")
    MemberOrderFactory(member=member, store=tree["other"], order_no="ORD-THERE")
    here = RedemptionFactory(store=tree["store"], member=member, redemption_no="HX000000000001")
    RedemptionLineFactory(redemption=here)
    there = RedemptionFactory(store=tree["other"], member=member, redemption_no="HX000000000002")
    RedemptionLineFactory(redemption=there)
    coupon = CouponFactory(member=member, code="RX00000123")
    client.force_login(user_with_role(Role.CLERK, tree["store"]))
    detail = reverse("redemption:member_detail", args=[member.pk])

    assert _search(client, "17700000516").url == detail
    assert _search(client, "5500199339").url == detail
    assert _search(client, "ORD-HERE").url == f"{detail}#orders"
    assert _search(client, "HX000000000001").url == reverse("redemption:receipt", args=[here.pk])
    assert _search(client, "rx00000123").url == f"{detail}#coupons"
    # another store's order and redemption: not found, worded as for a number that never was
    for q in ("ORD-THERE", "HX000000000002", "HX999999999999"):
        assert _not_found(_search(client, q), q), q
    assert coupon.pk


def test_coupon_codes_and_recharge_numbers_open_the_coupon_list_for_operators(client, tree):
    rule = CouponRuleFactory(creating_org=tree["group"])
    coupon = CouponFactory(rule=rule, code="CZ0001", recharge_no="123456789012345")
    client.force_login(user_with_role(Role.OPERATOR, tree["group"]))
    expected = f"{reverse('coupons:coupon_list')}?code=CZ0001"
    assert _search(client, "CZ0001").url == expected
    assert _search(client, "123456789012345").url == expected
    assert coupon.pk


def test_pickup_codes_orders_and_promo_codes(client, tree):
    code = PickupCodeFactory(code="TC0000000042")
    mine = StoreOrderFactory(
        order_no="P260101000000042", store=PickupStoreFactory(store=tree["store"])
    )
    theirs = StoreOrderFactory(
        order_no="P260101000000043", store=PickupStoreFactory(store=tree["other"])
    )
    promo = PromoCodeFactory(code="PCSUMMER", application__org=tree["group"])

    client.force_login(user_with_role(Role.OPERATOR, tree["group"]))
    assert _search(client, "TC0000000042").url == reverse("pickup:code_detail", args=[code.pk])
    assert _search(client, "p260101000000043").url == reverse(
        "pickup:order_detail", args=[theirs.pk]
    )
    assert _search(client, "pcsummer").url == reverse(
        "promocodes:detail", args=[promo.application_id]
    )

    client.force_login(user_with_role(Role.STORE_MANAGER, tree["store"]))
    assert _search(client, "P260101000000042").url == reverse(
        "pickup:store_order_detail", args=[mine.pk]
    )
    for q in ("P260101000000043", "TC0000000042", "PCSUMMER"):
        assert _not_found(_search(client, q), q), q


def test_outside_consumption_numbers_show_with_their_state(client, tree):
    coupon = OutsideCouponFactory(code="J880123", mapping__shop__org=tree["group"])
    client.force_login(user_with_role(Role.OPERATOR, tree["group"]))
    opened = _search(client, "J880123")
    assert opened.url == reverse("redemption:outside_coupon", args=[coupon.pk])
    page = client.get(opened.url).content.decode()
    assert "J880123" in page and "外部票券" in page and "未使用" in page
    client.force_login(user_with_role(Role.CLERK, tree["store"]))  # not used at this store
    assert _not_found(_search(client, "J880123"), "J880123")


def test_a_bad_query_is_said_to_be_one(client, tree):
    client.force_login(user_with_role(Role.CLERK, tree["store"]))
    page = _search(client, "<script>").content.decode()
    assert "不可能是" in page and "<script>" not in page.split("<main")[1]
    assert not AuditEntry.objects.exists()


def test_the_search_needs_a_login(client):
    assert _search(client, "17700000516").status_code == 302
