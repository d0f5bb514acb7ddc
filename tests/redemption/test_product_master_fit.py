"""The fit check reads the chain's product master: a POS item's category comes from the master by
SKU when the till sends none (an unknown SKU is kept as sent), 不适用食品类别 of a rule excludes its
sub-categories too; an order arriving after a redemption against its number is linked only when
the redemption's coupons fit it."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from couponhub.core.models import AuditEntry, RoleAssignment
from coupons.models import CouponRule
from members.models import MemberOrderItem
from redemption.models import Redemption
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import user_with_role
from tests.products.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
REDEEM = "/api/v1/coupons/redeem"
ORDERS = "/api/v1/orders"


@pytest.fixture
def pos(client, store):
    return SignedClient(client, ApiClientFactory(store=store, name="海典POS"))


@pytest.fixture
def master():
    drinks = CategoryFactory(code="YIN", name="饮品")
    coffee = CategoryFactory(code="KF", name="咖啡", parent=drinks)
    mains = CategoryFactory(code="ZS", name="主食")
    ProductFactory(sku="K001", name="美式咖啡", category=coffee)
    ProductFactory(sku="D001", name="鱼香肉丝", category=mains)
    return drinks


def _item(sku, amount, category=""):
    return {"sku": sku, "name": sku, "category": category, "qty": "1", "amount": amount}


def _order(store, order_no, items):
    total = str(sum(Decimal(i["amount"]) for i in items))
    return {
        "order_no": order_no,
        "store_code": store.code,
        "traded_at": timezone.now().isoformat(),
        "items": items,
        "total": total,
    }


def test_pos_items_take_the_masters_category_by_sku_and_unknown_skus_stay_as_sent(
    pos, store, master
):
    items = [_item("K001", "22"), _item("NEW9", "10"), _item("D001", "38", category="特价")]
    assert pos.post(ORDERS, _order(store, "O-1", items)).status_code == 201
    stored = dict(MemberOrderItem.objects.values_list("sku", "category"))
    assert stored == {"K001": "KF", "NEW9": "", "D001": "特价"}  # the till's own word wins


def test_excluding_a_top_level_category_excludes_its_sub_categories_by_the_master(
    pos, store, member, master
):
    rule = CouponRuleFactory(
        usable_orgs=[store.parent], min_order_amount=Decimal("50"), excluded_categories=[master]
    )
    coupon = CouponFactory(rule=rule, member=member)
    # ¥60 order, but ¥22 of it is coffee (饮品 › 咖啡, found by SKU): ¥38 counts, short of ¥50
    items = [_item("K001", "22"), _item("D001", "38")]
    response = pos.post(REDEEM, {"store_code": store.code, "codes": [coupon.code], "items": items})
    body = response.json()
    assert response.status_code == 409 and body["error"]["code"] == "below_threshold"
    assert "订单可用金额38.00元未满50.00元，还差12.00元" in body["error"]["message"]
    # the same order with more food fits
    items.append(_item("NEW9", "12"))  # unknown to the master: counts, as the till sold it
    ok = pos.post(REDEEM, {"store_code": store.code, "codes": [coupon.code], "items": items})
    assert ok.status_code == 200, ok.content


def test_a_product_coupon_names_the_masters_food(pos, store, member, master):
    rule = CouponRuleFactory(
        usable_orgs=[store.parent],
        benefit=CouponRule.Benefit.PRODUCT,
        face_value=None,
        min_order_amount=0,
        exchange_product=ProductFactory(sku="K001"),
    )
    coupon = CouponFactory(rule=rule, member=member)
    items = [_item("D001", "38")]
    body = pos.post(
        REDEEM, {"store_code": store.code, "codes": [coupon.code], "items": items}
    ).json()
    assert body["error"]["code"] == "product_not_in_order"
    assert "订单中没有券对应的食品【美式咖啡】" in body["error"]["message"]


def test_an_order_arriving_after_a_redemption_it_does_not_fit_leaves_it_unlinked_saying_why(
    client, pos, store, member, rule
):
    # given a 满300可用 coupon redeemed by the till against order LATE-9 before the order came
    coupon = CouponFactory(rule=rule, member=member)
    redeemed = pos.post(
        REDEEM, {"store_code": store.code, "codes": [coupon.code], "order_no": "LATE-9"}
    )
    assert redeemed.status_code == 200
    # when the order arrives and is only ¥133
    answer = pos.post(ORDERS, _order(store, "LATE-9", [_item("A1", "133")])).json()
    # then it is stored, but the redemption is not linked to it, and the reason is kept
    assert answer["linked_redemptions"] == []
    redemption = Redemption.objects.get()
    assert redemption.order is None
    assert f"券{coupon.code}" in redemption.link_refusal
    assert "还差167.00元" in redemption.link_refusal
    entry = AuditEntry.objects.get(action="redemption.link_refused")
    assert "未关联该订单" in entry.note
    # and the records page shows it unlinked, with the reason
    client.force_login(user_with_role(RoleAssignment.Role.CLERK, store))
    page = client.get(reverse("redemption:records")).content.decode()
    assert "未关联" in page and "还差167.00元" in page


def test_an_order_arriving_that_fits_is_still_linked(pos, store, member, rule):
    coupon = CouponFactory(rule=rule, member=member)
    pos.post(REDEEM, {"store_code": store.code, "codes": [coupon.code], "order_no": "LATE-10"})
    answer = pos.post(ORDERS, _order(store, "LATE-10", [_item("A1", "320")])).json()
    assert answer["linked_redemptions"] == [Redemption.objects.get().redemption_no]
    assert Redemption.objects.get().link_refusal == ""
