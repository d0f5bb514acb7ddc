import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from couponhub.core.models import AuditEntry, SmsVerification
from couponhub.core.sms import top_up_sms_account
from coupons.models import Coupon, CouponRule
from members.models import Member, StoredValueEntry
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role
from tests.members.factories import MemberFactory, MemberOrderFactory
from tests.redemption.factories import RedemptionFactory, RedemptionLineFactory

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


@pytest.fixture
def member(tree):
    return MemberFactory(phone="17700000516", u_value=500, registration_store=tree["store"])


@pytest.fixture
def clerk(tree):
    return user_with_role(Role.CLERK, tree["store"])


@pytest.fixture
def operator(tree):
    return user_with_role(Role.OPERATOR, tree["group"])


def _url(member, action=None):
    if action:
        return reverse("redemption:member_action", args=[member.pk, action])
    return reverse("redemption:member_detail", args=[member.pk])


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_a_clerk_sees_the_member_with_only_their_stores_orders_and_redemptions(
    client, tree, member, clerk
):
    MemberOrderFactory(member=member, store=tree["store"], order_no="HERE-1")
    MemberOrderFactory(member=member, store=tree["other"], order_no="THERE-1")
    RedemptionLineFactory(
        redemption=RedemptionFactory(member=member, store=tree["store"], redemption_no="HX-HERE")
    )
    RedemptionLineFactory(
        redemption=RedemptionFactory(member=member, store=tree["other"], redemption_no="HX-THERE")
    )
    CouponFactory(member=member, status=Coupon.Status.VOIDED, code="VOIDED-1")
    client.force_login(clerk)
    page = client.get(_url(member)).content.decode()
    assert "177****0516" in page and "17700000516" not in page
    assert "HERE-1" in page and "THERE-1" not in page
    assert "HX-HERE" in page and "HX-THERE" not in page
    assert "VOIDED-1" in page and "已作废" in page
    # the counter lookup links to the detail
    lookup = client.get(reverse("redemption:lookup"), {"q": member.phone}).content.decode()
    assert _url(member) in lookup


def test_403_without_a_member_permission_and_404_for_no_member(client, tree, member):
    client.force_login(user_with_role(Role.FINANCE, tree["group"]))
    assert client.get(_url(member)).status_code == 403
    assert client.post(_url(member, "claim")).status_code == 403
    client.force_login(user_with_role(Role.CLERK, tree["store"]))
    assert client.get(reverse("redemption:member_detail", args=[999999])).status_code == 404


def test_actions_need_their_own_permission(client, tree, member, clerk):
    coupon = CouponFactory(member=member)
    client.force_login(clerk)
    assert client.post(_url(member, "void"), {"coupon": coupon.pk}).status_code == 403
    assert (
        client.post(
            _url(member, "adjust"), {"ledger": "points", "delta": "5", "reason": "x"}
        ).status_code
        == 403
    )
    client.force_login(user_with_role(Role.HQ, tree["group"]))  # read-only
    assert client.get(_url(member)).status_code == 200
    assert client.post(_url(member, "profile"), {"name": "x", "gender": "M"}).status_code == 403


def test_a_clerk_claims_and_exchanges_with_price_and_balance_after(client, tree, member, clerk):
    free = CouponRuleFactory(name="满100减10", usable_orgs=[tree["group"]])
    swap = CouponRuleFactory(
        name="煎药券",
        kind=CouponRule.Kind.U_VALUE_EXCHANGE,
        u_value_price=300,
        usable_orgs=[tree["store"]],
    )
    elsewhere = CouponRuleFactory(name="别店券", usable_orgs=[tree["other"]])
    client.force_login(clerk)
    page = client.get(_url(member)).content.decode()
    assert "煎药券 · 300U · 兑换后余额200U" in page
    assert "满100减10" in page and "别店券" not in page
    response = client.post(_url(member, "claim"), {"rule": free.pk}, follow=True)
    assert any("已领券：满100减10" in m for m in _messages(response))
    response = client.post(_url(member, "exchange"), {"rule": swap.pk}, follow=True)
    assert any("扣除300U，U享值余额200U" in m for m in _messages(response))
    member.refresh_from_db()
    assert member.u_value == 200
    assert Coupon.objects.filter(member=member, rule=swap, u_value_paid=300).exists()
    # the counter shows an exchange coupon that came without a campaign (it used to fail)
    lookup = client.get(reverse("redemption:lookup"), {"q": member.phone, "tab": "usable"})
    assert "300U" in lookup.content.decode()
    # the second exchange is refused with the reason, nothing changes
    response = client.post(_url(member, "exchange"), {"rule": swap.pk}, follow=True)
    assert any("U享值不足：需要300，当前200" in m for m in _messages(response))
    assert Coupon.objects.filter(member=member).count() == 2
    # a rule not offered at this store is not accepted
    response = client.post(_url(member, "claim"), {"rule": elsewhere.pk}, follow=True)
    assert not Coupon.objects.filter(rule=elsewhere).exists()
    assert AuditEntry.objects.filter(action="coupons.claim", actor=clerk).exists()


def test_a_purchase_records_price_and_payment_method(client, tree, member, clerk):
    sale = CouponRuleFactory(
        name="9.9元抢券", sale_price=Decimal("9.90"), usable_orgs=[tree["group"]]
    )
    client.force_login(clerk)
    assert "9.9元抢券 · ¥9.90" in client.get(_url(member)).content.decode()
    client.post(_url(member, "purchase"), {"rule": sale.pk, "payment_method": "支付宝"})
    coupon = Coupon.objects.get(rule=sale)
    assert coupon.price_paid == Decimal("9.90") and coupon.payment_method == "支付宝"


def test_transfer_follows_the_rule(client, tree, member, clerk):
    friend = MemberFactory(phone="13800000999")
    ok = CouponFactory(member=member, rule=CouponRuleFactory(transferable=True))
    no = CouponFactory(member=member, rule=CouponRuleFactory(transferable=False))
    client.force_login(clerk)
    response = client.post(
        _url(member, "transfer"), {"coupon": no.pk, "to": friend.phone}, follow=True
    )
    assert "该券不可转赠" in _messages(response)
    response = client.post(
        _url(member, "transfer"), {"coupon": ok.pk, "to": "13800000000"}, follow=True
    )
    assert any("未找到会员" in m for m in _messages(response))
    client.post(_url(member, "transfer"), {"coupon": ok.pk, "to": friend.phone})
    ok.refresh_from_db()
    assert ok.member == friend and ok.transferred_from == member
    # another member's coupon is not reachable through this member's page
    theirs = CouponFactory(member=friend, rule=CouponRuleFactory(transferable=True))
    assert (
        client.post(_url(member, "transfer"), {"coupon": theirs.pk, "to": member.phone}).status_code
        == 404
    )


def test_an_operator_voids_freezes_and_adjusts_with_a_reason(client, tree, member, operator):
    coupon = CouponFactory(member=member)
    used = CouponFactory(member=member, status=Coupon.Status.USED, used_at=timezone.now())
    client.force_login(operator)
    client.post(_url(member, "freeze"), {"coupon": coupon.pk})
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.FROZEN
    client.post(_url(member, "unfreeze"), {"coupon": coupon.pk})
    response = client.post(_url(member, "void"), {"coupon": used.pk}, follow=True)
    assert any("不能作废" in m for m in _messages(response))
    client.post(_url(member, "void"), {"coupon": coupon.pk})
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.VOIDED

    response = client.post(
        _url(member, "adjust"),
        {"ledger": "stored_value", "delta": "50", "reason": " "},
        follow=True,
    )
    assert any("原因" in m for m in _messages(response))
    client.post(
        _url(member, "adjust"), {"ledger": "stored_value", "delta": "50.5", "reason": "补录充值"}
    )
    member.refresh_from_db()
    assert member.stored_value == Decimal("50.50")
    assert StoredValueEntry.objects.get(member=member).reason == "人工调整：补录充值"
    response = client.post(
        _url(member, "adjust"), {"ledger": "points", "delta": "-10", "reason": "扣错"}, follow=True
    )
    assert any("积分不足：当前0分，不能扣减10分" in m for m in _messages(response))
    entry = AuditEntry.objects.get(action="members.adjust_balance")
    assert entry.note == "补录充值" and entry.actor == operator


def test_the_phone_changes_only_with_the_new_phones_code(client, member, clerk, sms_outbox):
    client.force_login(clerk)
    response = client.post(_url(member, "phone-code"), {"new_phone": "13911112222"}, follow=True)
    assert _messages(response) == ["验证码短信未发出：短信余额不足，未发送"]
    top_up_sms_account(actor=None, amount=Decimal("10"))
    response = client.post(_url(member, "phone-code"), {"new_phone": "13911112222"}, follow=True)
    assert any("验证码已发送到新手机号139****2222" in m for m in _messages(response))
    response = client.post(_url(member, "phone-code"), {"new_phone": "13911112222"}, follow=True)
    assert any("请" in m and "秒后再重新发送" in m for m in _messages(response))
    sent = sms_outbox[-1]
    assert sent["phone"] == "13911112222"
    code = re.search(r"验证码为(\d{6})", sent["text"]).group(1)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(
        _url(member, "phone"), {"new_phone": "13911112222", "code": wrong}, follow=True
    )
    assert any("验证码不正确，还可以再试4次" in m for m in _messages(response))
    # the wrong try stays counted
    assert SmsVerification.objects.order_by("-pk").first().attempts == 1
    client.post(_url(member, "phone"), {"new_phone": "13911112222", "code": code})
    member.refresh_from_db()
    assert member.phone == "13911112222"
    entry = AuditEntry.objects.get(action="members.change_phone")
    assert entry.before == {"phone": "17700000516"} and entry.after == {"phone": "13911112222"}
    # a code is spent once
    response = client.post(
        _url(member, "phone"), {"new_phone": "13911113333", "code": code}, follow=True
    )
    assert any("请先向该手机号发送验证码" in m for m in _messages(response))


def test_a_phone_of_another_member_is_refused(client, member, clerk):
    MemberFactory(phone="13911112222")
    client.force_login(clerk)
    response = client.post(_url(member, "phone-code"), {"new_phone": "13911112222"}, follow=True)
    assert any("已是其他会员的手机号" in m for m in _messages(response))
    assert not SmsVerification.objects.exists()


def test_profile_edit_is_audited(client, member, clerk):
    client.force_login(clerk)
    client.post(_url(member, "profile"), {"name": "潘丽", "gender": "F", "birthday": "1991-02-03"})
    member.refresh_from_db()
    assert member.name == "潘丽" and member.birthday == datetime.date(1991, 2, 3)
    assert AuditEntry.objects.get(action="members.update_profile").after["name"] == "潘丽"
    assert Member.objects.count() == 1
