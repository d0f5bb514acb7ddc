import re
from decimal import Decimal

import pytest
from django.urls import reverse

from couponhub.core.models import RoleAssignment
from coupons.models import Coupon
from redemption.models import Redemption, RedemptionLine, SmsChallenge
from tests.coupons.factories import CouponFactory
from tests.factories import StoreFactory, user_with_role
from tests.members.factories import MemberOrderFactory
from tests.redemption.factories import RedemptionFactory, RedemptionLineFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role


@pytest.fixture
def clerk(client, store):
    user = user_with_role(Role.CLERK, store, username="lina_pan")
    client.force_login(user)
    return user


@pytest.fixture
def coupons(rule, member):
    return [CouponFactory(rule=rule, member=member) for _ in range(3)]


def code_in(outbox):
    return re.search(r"验证码为(\d{6})", outbox[-1]["text"]).group(1)


def start(client, member, coupons, q="17700000516"):
    return client.post(
        reverse("redemption:start"),
        {"member": member.pk, "q": q, "coupon": [c.pk for c in coupons]},
    )


def test_usable_tab_offers_checkboxes_and_the_redeem_button(client, clerk, member, coupons):
    html = client.get(reverse("redemption:lookup"), {"q": member.phone}).content.decode()
    assert 'action="/redemption/start/"' in html
    assert html.count('class="coupon-check"') == 3
    assert "核销优惠券" in html and "/20" in html


def test_the_whole_counter_flow(client, clerk, store, member, coupons, sms_balance, sms_outbox):
    # given a selection of two coupons
    response = start(client, member, coupons[:2])
    challenge = SmsChallenge.objects.get()
    assert response.status_code == 302 and f"/verify/{challenge.pk}/" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "177****0516" in page and coupons[0].code in page and "autofocus" in page
    # when the clerk types a wrong code, the error stands under the input
    wrong = f"{(int(code_in(sms_outbox)) + 1) % 10**6:06d}"
    body = {"code": wrong, "coupon": [c.pk for c in coupons[:2]], "q": member.phone}
    bad = client.post(response["Location"], body)
    assert bad.status_code == 400 and "验证码错误，还可以再试4次" in bad.content.decode()
    # then the right code redeems and opens the order dialog
    body["code"] = code_in(sms_outbox)
    ok = client.post(response["Location"], body)
    redemption = Redemption.objects.get()
    assert ok.status_code == 302 and f"/{redemption.pk}/link/" in ok["Location"]
    order = MemberOrderFactory(
        store=store, member=member, order_no="19241:194501", total=Decimal("350.00")
    )
    MemberOrderFactory(member=member)  # another store's order is not offered
    dialog = client.get(ok["Location"]).content.decode()
    for heading in (
        "序号",
        "订单编号",
        "交易日期",
        "商品数量",
        "订单总金额",
        "是否已关联优惠券",
        "刷新",
    ):
        assert heading in dialog
    assert "19241:194501" in dialog and dialog.count('name="order"') == 1
    assert "暂不关联订单" in dialog and "关联订单" in dialog
    linked = client.post(ok["Location"], {"order": order.pk, "flow": 1, "q": member.phone})
    assert linked.status_code == 302 and "/receipt/" in linked["Location"]
    redemption.refresh_from_db()
    assert redemption.order == order
    receipt = client.get(linked["Location"]).content.decode()
    assert coupons[0].code in receipt and coupons[1].code in receipt and "19241:194501" in receipt
    assert Coupon.objects.filter(status="used").count() == 2


def test_skip_linking_goes_to_the_receipt(client, clerk, store, member, rule):
    redemption = RedemptionFactory(store=store, member=member, clerk=clerk)
    RedemptionLineFactory(redemption=redemption)
    url = reverse("redemption:link", args=[redemption.pk])
    response = client.post(url, {"skip": 1, "flow": 1})
    assert response.status_code == 302 and "/receipt/" in response["Location"]
    assert "未关联订单" in client.get(response["Location"]).content.decode()


def test_a_21st_coupon_is_refused_by_the_page(client, clerk, rule, member, sms_balance):
    many = [CouponFactory(rule=rule, member=member) for _ in range(21)]
    response = start(client, member, many)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "一次最多核销20张优惠券，已选21张" in page
    assert not SmsChallenge.objects.exists()


def test_a_coupon_used_meanwhile_is_named(client, clerk, member, coupons, sms_balance):
    Coupon.objects.filter(pk=coupons[1].pk).update(status="frozen")
    response = start(client, member, coupons)
    page = client.get(response["Location"]).content.decode()
    assert f"券{coupons[1].code}：券已冻结" in page


def test_redeem_pages_need_the_permission(client, store, member, coupons):
    client.force_login(user_with_role(Role.OPERATOR, store))
    assert start(client, member, coupons).status_code == 403
    assert client.get(reverse("redemption:records")).status_code == 403


def test_another_stores_redemption_is_404(client, clerk, member):
    foreign = RedemptionFactory(store=StoreFactory(), member=member)
    line = RedemptionLineFactory(redemption=foreign)
    assert client.get(reverse("redemption:link", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("redemption:receipt", args=[foreign.pk])).status_code == 404
    response = client.post(reverse("redemption:return_line", args=[line.pk]))
    assert response.status_code == 404
    line.refresh_from_db()
    assert line.returned_at is None


def test_records_list_filters_and_scope(client, clerk, store, member):
    mine = RedemptionLineFactory(redemption__store=store, redemption__member=member)
    theirs = RedemptionLineFactory(redemption__store=StoreFactory(), redemption__member=member)
    url = reverse("redemption:records")
    html = client.get(url).content.decode()
    assert mine.coupon.code in html and theirs.coupon.code not in html
    for heading in ("序号", "优惠券信息", "会员信息", "核销信息", "操作", "退券", "关联订单"):
        assert heading in html
    assert "175" not in html or "****" in html
    assert "未关联订单" in html and "跳至" in html
    assert mine.coupon.code not in client.get(url, {"code": "NOPE"}).content.decode()
    assert mine.coupon.code in client.get(url, {"member": member.card_no}).content.decode()
    assert (
        mine.coupon.code
        in client.get(url, {"operator": mine.redemption.clerk.username}).content.decode()
    )
    assert mine.coupon.code not in client.get(url, {"state": "returned"}).content.decode()
    assert mine.coupon.code in client.get(url, {"method": "sms", "app": "门店"}).content.decode()


def test_records_run_a_fixed_number_of_queries(
    client, clerk, store, member, django_assert_max_num_queries
):
    for _ in range(25):
        RedemptionLineFactory(redemption__store=store, redemption__member=member)
    # 13: the user's stores by id are one query (permissions.scope_ids)
    with django_assert_max_num_queries(13):
        response = client.get(reverse("redemption:records"))
    assert response.status_code == 200


def test_return_from_the_records_page(client, clerk, store, member):
    line = RedemptionLineFactory(redemption__store=store, redemption__member=member)
    url = reverse("redemption:return_line", args=[line.pk])
    response = client.post(url, follow=True)
    assert "已退回为未使用" in response.content.decode()
    line.coupon.refresh_from_db()
    assert line.coupon.status == "unused"
    again = client.post(url, follow=True).content.decode()
    assert "已退券，不能重复退券" in again
    assert RedemptionLine.objects.get().returned_by == clerk


def test_a_coupon_id_that_is_no_number_is_dropped_not_a_500(client, clerk, member, coupons):
    # "²" passed str.isdigit() and int() raised
    response = client.post(
        reverse("redemption:start"), {"member": member.pk, "q": "17700000516", "coupon": ["\u00b2"]}
    )
    assert response.status_code in (200, 302)
    assert not Redemption.objects.exists()
