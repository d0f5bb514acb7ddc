"""One outside coupon's page (消费号): what the archive row says and more — member, return,
history, the partner shop's redemption notice — within the archive's and the till's scope;
the header search opens it."""

import pytest
from django.urls import reverse

from couponhub.core.models import RoleAssignment
from redemption import outside
from tests.core.test_events import Receiver
from tests.factories import OrgFactory, RegionFactory, StoreFactory, user_with_role
from tests.members.factories import MemberFactory
from tests.redemption.factories import OutsideCouponFactory, OutsideProductMappingFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role


@pytest.fixture
def receiver():
    stub = Receiver(secret="shop-secret-1")
    yield stub
    stub.close()


@pytest.fixture
def chain():
    group = OrgFactory()
    region = RegionFactory(parent=group)
    other_region = RegionFactory(parent=group)
    return {
        "group": group,
        "region": region,
        "store": StoreFactory(parent=region, name="蓝港店", code="380"),
        "other": StoreFactory(parent=other_region, name="望京店", code="381"),
    }


@pytest.fixture
def redeemed(chain, receiver, django_capture_on_commit_callbacks):
    admin = user_with_role(Role.ADMIN, chain["group"])
    mapping = OutsideProductMappingFactory(
        shop__org=chain["region"],
        activity__org=chain["region"],
        activity__stores=[chain["store"]],
        activity__name="100元代金券",
        product_name="聚食汇100元券",
    )
    outside.bind_shop(
        actor=admin,
        org=chain["region"],
        name="聚微量微商城",
        shop_id=mapping.shop.shop_id,
        secret="shop-secret-1",
        callback_url=receiver.url,
    )
    member = MemberFactory(name="王小明", phone="13912345678")
    coupon = OutsideCouponFactory(mapping=mapping, code="J770001", member=member, phone="")
    clerk = user_with_role(Role.CLERK, chain["store"], username="till_clerk")
    with django_capture_on_commit_callbacks(execute=True):
        outside.redeem_outside_coupon(
            code=coupon.code,
            store=chain["store"],
            items=None,
            order_no="19241:194501",
            operator="till_clerk",
            actor=clerk,
        )
    coupon.refresh_from_db()
    return coupon


def _url(coupon):
    return reverse("redemption:outside_coupon", args=[coupon.pk])


def test_the_page_shows_the_coupon_its_redemption_history_and_the_shops_notice(
    client, chain, redeemed, receiver
):
    assert [e["data"]["code"] for e in receiver.accepted] == ["J770001"]
    client.force_login(user_with_role(Role.OPERATOR, chain["region"]))
    page = client.get(_url(redeemed)).content.decode()
    for text in (
        "J770001",
        "已使用",
        "聚微量微商城",
        "聚食汇100元券",
        "100元代金券",
        "王小明",
        "139****5678",
        "380-蓝港店",
        "19241:194501",
        "till_clerk",
        "核销通知（回调外部店铺）",
        "已送达",
        "操作记录",
    ):
        assert text in page, text
    assert "核销外部票券" in page or "外部票券核销" in page
    assert reverse("redemption:member_detail", args=[redeemed.member_id]) in page
    # the delivery's own page is the administrator's
    assert "/events/deliveries/" not in page


def test_the_archive_and_the_till_link_to_it(client, chain, redeemed):
    client.force_login(user_with_role(Role.OPERATOR, chain["region"]))
    assert _url(redeemed) in client.get(reverse("redemption:outside_archive")).content.decode()
    client.force_login(user_with_role(Role.CLERK, chain["store"]))
    assert _url(redeemed) in client.get(reverse("redemption:outside_till")).content.decode()


def test_a_returned_coupon_says_when_and_by_whom(client, chain, redeemed):
    clerk = user_with_role(Role.CLERK, chain["store"])
    outside.return_outside_coupon(
        coupon=redeemed, store=chain["store"], operator=clerk.username, actor=clerk
    )
    client.force_login(clerk)
    page = client.get(_url(redeemed)).content.decode()
    assert "未使用" in page and "退券时间" in page and clerk.username in page


def test_scope_as_the_archive_and_the_till(client, chain, redeemed):
    url = _url(redeemed)
    # the clerk of the store that redeemed it; an operator over the shop's region
    for user in (
        user_with_role(Role.CLERK, chain["store"]),
        user_with_role(Role.OPERATOR, chain["region"]),
        user_with_role(Role.OPERATOR, chain["group"]),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 200
    # another store's clerk, an operator of another region: as if it did not exist
    for user in (
        user_with_role(Role.CLERK, chain["other"]),
        user_with_role(Role.OPERATOR, chain["other"].parent),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(reverse("redemption:outside_coupon", args=[999999])).status_code == 404
    # neither permission: 403
    client.force_login(user_with_role(Role.FINANCE, chain["group"]))
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


def test_an_unused_coupon_of_a_shop_without_callback(client, chain):
    coupon = OutsideCouponFactory(
        code="J770009", mapping__shop__org=chain["region"], phone="18100001234"
    )
    client.force_login(user_with_role(Role.OPERATOR, chain["region"]))
    page = client.get(_url(coupon)).content.decode()
    assert "未使用" in page and "181****1234" in page and "未设置回调地址" in page
    # a clerk sees an unused coupon only once it was redeemed at their store
    client.force_login(user_with_role(Role.CLERK, chain["store"]))
    assert client.get(_url(coupon)).status_code == 404


def test_the_header_search_opens_it_within_scope(client, chain, redeemed):
    search = reverse("core:search")
    client.force_login(user_with_role(Role.CLERK, chain["store"]))
    assert client.get(search, {"q": "j770001"}).url == _url(redeemed)
    client.force_login(user_with_role(Role.OPERATOR, chain["region"]))
    assert client.get(search, {"q": "J770001"}).url == _url(redeemed)
    client.force_login(user_with_role(Role.CLERK, chain["other"]))
    page = client.get(search, {"q": "J770001"}).content.decode()
    assert "没有找到您可以查看的“J770001”" in page
