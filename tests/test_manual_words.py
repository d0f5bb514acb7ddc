"""Each label issue #15 found showing another app's word, looked up on its own page over the
demo data: the word of the manual shows, the colliding one does not."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from coupons.models import CouponRule
from members.models import Member
from pickup.forms import ConsumerOrderForm
from pickup.models import CardType, PickupStore
from promocodes.models import Channel, PromoCodeApplication
from tests.promocodes.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _login(client, username):
    from couponhub.core.models import User

    client.force_login(User.objects.get(username=username))
    return client


def _text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_manuals_words_show_on_their_pages(demo, client):
    _login(client, "operator")

    # coupon rules: the status 创建 (filter, list), the detail's 审核日期 / 失效日期, history 操作人
    rules = _text(client.get(reverse("coupons:rule_list")))
    assert ">创建</option>" in rules and ">创建时间</option>" not in rules
    rule = CouponRule.objects.order_by("pk").first()
    CouponRule.objects.filter(pk=rule.pk).update(status=CouponRule.Status.CREATED)
    rules = _text(client.get(reverse("coupons:rule_list")))
    assert "<td>创建</td>" in rules or ">创建<" in rules
    detail = _text(client.get(reverse("coupons:rule_detail", args=[rule.pk])))
    assert "<dt>审核日期</dt>" in detail and "<dt>失效日期</dt>" in detail
    assert "<dt>已审核</dt>" not in detail
    assert "<th>操作人</th>" in detail and "<th>运营</th>" not in detail

    # coupons: 已领用 among the statuses, not 接收时间
    coupons = _text(client.get(reverse("coupons:coupon_list")))
    assert ">已领用</option>" in coupons and "接收时间" not in coupons

    # promo codes: statuses 审核通过 and 有效, columns 优惠码数; the detail's 平台 and 配送
    promos = _text(client.get(reverse("promocodes:applications")))
    assert "审核通过" in promos and "有效" in promos and "优惠码数" in promos
    assert "提货码数" not in promos
    platform_code = PromoCodeApplication.objects.filter(subject="platform").first()
    promo = _text(client.get(reverse("promocodes:detail", args=[platform_code.pk])))
    assert "<dd>平台</dd>" in promo and "<dt>配送</dt>" in promo
    assert "使用平台</dd>" not in promo and "提货方式" not in promo

    # channels: 优惠码前缀; an 初始 channel's button says 启用, not 反禁用
    ChannelFactory(status=Channel.Status.INITIAL, name="新渠道")
    channels = _text(client.get(reverse("promocodes:channels")))
    assert "优惠码前缀" in channels and "提货码前缀" not in channels
    assert "启用" in channels and "反禁用" not in channels

    # HQ's report: the column 优惠券类型
    _login(client, "hq")
    report = _text(client.get(reverse("reports:u_value_detail")))
    assert "<th" in report and "优惠券类型" in report and "票券类型" not in report

    # the counter: 常购商品's product column is 商品, not 商品券
    _login(client, "clerk")
    member = Member.objects.order_by("pk").first()
    products = _text(
        client.get(reverse("redemption:lookup"), {"q": member.phone, "view": "products"})
    )
    assert "<th>商品</th>" in products and "<th>商品券</th>" not in products


def test_the_consumers_phone_error_is_not_the_store_managers(demo):
    card_type = CardType.objects.first()
    with translation.override("zh-hans"):
        form = ConsumerOrderForm(
            {"kind": "ship", "name": "张三", "phone": "123"},
            card_type=card_type,
            stores=PickupStore.objects.none(),
        )
        assert not form.is_valid()
        assert form.errors["phone"] == ["请输入11位手机号码。"]
