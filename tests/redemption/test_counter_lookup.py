"""The counter's member lookup (redemption:lookup, formerly members:lookup)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from couponhub.core.models import RoleAssignment
from couponhub.core.stores import SESSION_KEY
from coupons.models import Coupon, CouponRule
from members import services
from tests.coupons.factories import CampaignFactory, CouponFactory, CouponRuleFactory
from tests.factories import RegionFactory, StoreFactory, user_with_role
from tests.members.factories import MemberFactory, MemberOrderItemFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
URL = reverse("redemption:lookup")


@pytest.fixture
def store():
    return StoreFactory(parent=RegionFactory())


@pytest.fixture
def clerk(client, store):
    user = user_with_role(Role.CLERK, store)
    client.force_login(user)
    return user


@pytest.fixture
def member(store):
    m = MemberFactory(phone="17700000516", card_no="5500199339", name="薛定谔的猫")
    services.change_points(member=m, delta=5, reason="消费积分")
    return m


def test_lookup_by_phone_shows_profile_masked_phone_and_counters(client, clerk, store, member):
    rule = CouponRuleFactory(usable_orgs=[store.parent], min_order_amount=Decimal("300"))
    CouponFactory(rule=rule, member=member, code="RX8C3E")
    MemberOrderItemFactory(order__member=member, order__store=store, sku="A1")
    resp = client.get(URL, {"q": "17700000516"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "薛定谔的猫" in html and "<dd>177****0516</dd>" in html
    assert "<dd>17700000516</dd>" not in html
    assert "5500199339" in html
    assert "优惠券(1)" in html and "订单记录(1)" in html and "常购商品(1)" in html
    assert "积分(5)" in html
    assert "本店可用(1)" in html and "本店不可用(0)" in html
    assert "RX8C3E" in html and "¥20" in html and "满300可用" in html


@pytest.mark.parametrize("q", ["5500199339", "20001"])
def test_lookup_by_card_or_member_id(client, clerk, member, q):
    member.member_no = "20001"
    member.save()
    resp = client.get(URL, {"q": q})
    assert "薛定谔的猫" in resp.content.decode()


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "请输入会员手机号/会员卡号/会员ID"),
        ("177'; drop", "查询内容格式不正确"),
        ("1770000051", "手机号格式不正确：应为11位数字"),
        ("13999999999", "未找到会员：13999999999"),
    ],
)
def test_lookup_messages(client, clerk, member, q, message):
    resp = client.get(URL, {"q": q})
    assert resp.status_code == 200
    assert message in resp.content.decode()


def test_coupon_tabs_count_each_status(client, clerk, store, member):
    here = CouponRuleFactory(usable_orgs=[store])
    elsewhere = CouponRuleFactory(usable_orgs=[StoreFactory()])
    CouponFactory(rule=here, member=member)
    CouponFactory(rule=elsewhere, member=member)
    CouponFactory(rule=here, member=member, status=Coupon.Status.USED, used_at=timezone.now())
    CouponFactory(rule=here, member=member, valid_to=timezone.now() - datetime.timedelta(minutes=1))
    CouponFactory(rule=here, member=member, status=Coupon.Status.VOIDED)
    CouponFactory(rule=here, member=member, status=Coupon.Status.FROZEN)
    html = client.get(URL, {"q": member.phone, "tab": "expired"}).content.decode()
    for label in [
        "本店可用(1)",
        "本店不可用(1)",
        "已使用(1)",
        "已过期(1)",
        "已作废(1)",
        "已冻结(1)",
    ]:
        assert label in html


def test_u_value_exchange_coupon_shows_tag_price_and_yuan(client, clerk, store, member, settings):
    settings.U_VALUE_PER_YUAN = 100
    rule = CouponRuleFactory(
        usable_orgs=[store], kind=CouponRule.Kind.U_VALUE_EXCHANGE, u_value_price=2000
    )
    campaign = CampaignFactory(rule=rule, name="积分商城-煎药券-1付药")
    CouponFactory(rule=rule, member=member, campaign=campaign, u_value_paid=1500)
    html = client.get(URL, {"q": member.phone}).content.decode()
    assert "【U享兑换】" in html and "1500U" in html and "¥15.00" in html


def test_large_counts_show_capped(client, clerk, member):
    from members.templatetags.members_tags import cap_count

    assert cap_count(100000) == "99999+" and cap_count(99999) == "99999"


def test_other_sections(client, clerk, store, member):
    MemberOrderItemFactory(order__member=member, order__store=store, name="六味地黄丸")
    services.change_u_value(member=member, delta=300, reason="活动赠送")
    assert "六味地黄丸" in client.get(URL, {"q": member.phone, "view": "products"}).content.decode()
    orders = client.get(URL, {"q": member.phone, "view": "orders"}).content.decode()
    assert member.orders.get().order_no in orders
    points = client.get(URL, {"q": member.phone, "view": "points"}).content.decode()
    assert "消费积分" in points and "活动赠送" in points


def test_query_count_is_fixed(client, clerk, store, member, django_assert_max_num_queries):
    rule = CouponRuleFactory(usable_orgs=[store])
    for _ in range(3):
        MemberOrderItemFactory(order__member=member, order__store=store)
    CouponFactory.create_batch(3, rule=rule, member=member)
    # (two of them: the member's orders here, offered for 关联订单 before the SMS check, and
    # the member's outside coupons)
    with django_assert_max_num_queries(14) as few:
        client.get(URL, {"q": member.phone})
    CouponFactory.create_batch(30, rule=CouponRuleFactory(usable_orgs=[store]), member=member)
    for _ in range(10):
        MemberOrderItemFactory(order__member=member, order__store=store)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL, {"q": member.phone})


def test_lookup_needs_the_permission(client, store):
    client.force_login(user_with_role(Role.OPERATOR, store.parent))
    assert client.get(URL, {"q": "1"}).status_code == 403


def test_lookup_works_at_the_current_store_only(client, store, member):
    # a clerk of two stores switches to a store outside the rule's usable orgs
    other = StoreFactory()
    user = user_with_role(Role.CLERK, store)
    RoleAssignment.objects.create(user=user, role=Role.CLERK, org=other)
    client.force_login(user)
    CouponFactory(rule=CouponRuleFactory(usable_orgs=[store]), member=member)
    client.post(reverse("core:switch_store"), {"store": other.pk})
    html = client.get(URL, {"q": member.phone}).content.decode()
    assert "本店可用(0)" in html and "本店不可用(1)" in html
    # a store outside the user's scope cannot be switched to: 404
    stranger = StoreFactory()
    assert client.post(reverse("core:switch_store"), {"store": stranger.pk}).status_code == 404


def test_the_old_address_redirects_permanently_and_keeps_the_query(client, clerk, member):
    response = client.get("/members/lookup/", {"q": member.phone, "view": "orders"})
    assert response.status_code == 301
    assert response["Location"] == f"{URL}?q={member.phone}&view=orders"
    page = client.get(response["Location"])
    assert page.status_code == 200 and "薛定谔的猫" in page.content.decode()


def test_the_old_address_without_a_query_redirects_to_the_bare_page(client, clerk):
    response = client.get("/members/lookup/")
    assert response.status_code == 301 and response["Location"] == URL


def test_the_old_address_still_needs_the_permission(client, store):
    client.force_login(user_with_role(Role.OPERATOR, store.parent))
    response = client.get("/members/lookup/", {"q": "1"}, follow=True)
    assert response.redirect_chain == [(f"{URL}?q=1", 301)]
    assert response.status_code == 403


def test_a_store_outside_the_clerks_scope_is_never_the_counter_store(client, clerk, store, member):
    stranger = StoreFactory()
    CouponFactory(rule=CouponRuleFactory(usable_orgs=[stranger]), member=member)
    session = client.session
    session[SESSION_KEY] = stranger.pk
    session.save()
    html = client.get(URL, {"q": member.phone}).content.decode()
    assert "本店可用(0)" in html and "本店不可用(1)" in html
    assert stranger.name not in html and store.name in html


def test_the_menu_and_the_home_search_lead_to_the_counter_lookup(client, clerk):
    html = client.get(reverse("home")).content.decode()
    assert f'href="{URL}"' in html and "会员信息查询" in html
    assert f'action="{URL}"' in html


def test_a_clerk_sees_the_members_orders_at_this_store_only(client, clerk, store, member):
    here = MemberOrderItemFactory(order__member=member, order__store=store, name="六味地黄丸")
    there = MemberOrderItemFactory(order__member=member, order__store=StoreFactory(), name="牛黄丸")
    orders = client.get(URL, {"q": member.phone, "view": "orders"}).content.decode()
    assert here.order.order_no in orders and there.order.order_no not in orders
    assert "订单记录(1)" in orders and "常购商品(1)" in orders
    products = client.get(URL, {"q": member.phone, "view": "products"}).content.decode()
    assert "六味地黄丸" in products and "牛黄丸" not in products
