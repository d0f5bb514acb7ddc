from decimal import Decimal

import pytest
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.models import RoleAssignment
from redemption.models import OutsideActivity, OutsideCoupon, OutsideShop
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.factories import StoreFactory, user_with_role
from tests.members.factories import MemberOrderItemFactory
from tests.products.factories import ProductFactory
from tests.redemption.factories import (
    OutsideCouponFactory,
    OutsideProductMappingFactory,
    OutsideShopFactory,
)

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
REDEEM = "/api/v1/outside-coupons/redeem"
PUSH = "/api/v1/outside-coupons"


@pytest.fixture
def pos(client, store):
    return SignedClient(client, ApiClientFactory(store=store, name="聚食汇收银"))


def test_a_shop_pushes_sold_coupons_with_the_j_prefix(client, store):
    mapping = OutsideProductMappingFactory(product_id="P60", activity__stores=[store])
    shop = SignedClient(client, shop=mapping.shop)
    body = {
        "shop_id": mapping.shop.shop_id,
        "coupons": [{"code": "880001", "product_id": "P60", "phone": "18100004469"}],
    }
    response = shop.post(PUSH, body, idempotency_key="push-1")
    assert response.status_code == 200, response.content
    assert response.json() == {"created": ["J880001"], "duplicates": []}
    again = shop.post(PUSH, body)
    assert again.json() == {"created": [], "duplicates": ["J880001"]}
    coupon = OutsideCoupon.objects.get()
    assert coupon.activity == mapping.activity and coupon.status == "unused"
    unmapped = dict(body, coupons=[{"code": "J9", "product_id": "NOPE"}])
    assert shop.post(PUSH, unmapped).json()["error"]["code"] == "product_not_mapped"
    # the body may leave the shop out: the signature says who pushes
    assert shop.post(PUSH, {"coupons": body["coupons"]}).status_code == 200


def test_a_till_cannot_push_outside_coupons(pos, store):
    mapping = OutsideProductMappingFactory(product_id="P60", activity__stores=[store])
    body = {"shop_id": mapping.shop.shop_id, "coupons": [{"code": "1", "product_id": "P60"}]}
    response = pos.post(PUSH, body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"
    assert not OutsideCoupon.objects.exists()


def test_a_shop_pushes_only_for_itself_and_only_while_bound(client, store):
    mapping = OutsideProductMappingFactory(product_id="P60", activity__stores=[store])
    other = OutsideShopFactory()
    body = {"shop_id": mapping.shop.shop_id, "coupons": [{"code": "1", "product_id": "P60"}]}
    foreign = SignedClient(client, shop=other).post(PUSH, body)
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "shop_mismatch"
    forged = SignedClient(client, shop=mapping.shop, secret="guess")
    forged.secret = "guess"
    assert forged.post(PUSH, body).json()["error"]["code"] == "invalid_shop_signature"
    OutsideShop.objects.filter(pk=mapping.shop.pk).update(is_bound=False)
    unbound = SignedClient(client, shop=mapping.shop).post(PUSH, body)
    assert unbound.status_code == 401
    assert not OutsideCoupon.objects.exists()


def test_a_replayed_shop_push_is_refused(client, store):
    mapping = OutsideProductMappingFactory(product_id="P60", activity__stores=[store])
    shop = SignedClient(client, shop=mapping.shop)
    body = {"coupons": [{"code": "1", "product_id": "P60"}]}
    assert shop.post(PUSH, body, nonce="n-1").status_code == 200
    replay = shop.post(PUSH, body, nonce="n-1")
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "nonce_reused"


def test_the_three_till_errors_word_for_word(
    pos, store, sms_balance, sms_outbox, django_capture_on_commit_callbacks
):
    other = StoreFactory(name="右姑娘火锅(皇岗店)")
    item = OutsideCouponFactory(
        code="J880002",
        mapping__activity__coupon_type=OutsideActivity.Type.ITEM,
        mapping__activity__product=ProductFactory(sku="D001", name="鱼香肉丝"),
        mapping__activity__stores=[store],
    )
    missing = pos.post(REDEEM, {"store_code": store.code, "code": "J000000"})
    assert missing.json()["error"]["message"] == "票券不存在"
    no_dish = pos.post(
        REDEEM,
        {"store_code": store.code, "code": item.code, "items": [{"sku": "X", "amount": "36"}]},
    )
    assert no_dish.json()["error"]["message"] == "订单中没有此券相关菜品,不能使用"
    cash = OutsideCouponFactory(code="J880003", mapping__activity__stores=[other])
    wrong_store = pos.post(REDEEM, {"store_code": store.code, "code": cash.code})
    assert wrong_store.json()["error"]["message"] == (
        f"{store.name}不能使用该票券,票券【消费号J880003】不能使用!"
    )
    with django_capture_on_commit_callbacks(execute=True):
        ok = pos.post(
            REDEEM,
            {
                "store_code": store.code,
                "code": item.code,
                "items": [{"sku": "D001", "amount": "36"}],
            },
        )
    assert ok.status_code == 200, ok.content
    item.refresh_from_db()
    assert item.status == "used" and item.used_store == store
    assert sms_outbox[-1]["phone"] == "18100004469" and "J880002" in sms_outbox[-1]["text"]
    used = pos.post(REDEEM, {"store_code": store.code, "code": item.code, "items": []})
    assert used.json()["error"]["code"] == "outside_coupon_used"


def test_an_unbound_shops_coupon_does_not_exist_here(pos, store):
    coupon = OutsideCouponFactory(mapping__activity__stores=[store])
    OutsideShop.objects.filter(pk=coupon.shop_id).update(is_bound=False)
    assert (
        pos.post(REDEEM, {"store_code": store.code, "code": coupon.code}).json()["error"]["message"]
        == "票券不存在"
    )


def test_operator_binds_a_shop_creates_an_activity_and_a_mapping(client, store):
    group = store.parent.parent
    client.force_login(user_with_role(Role.OPERATOR, group))
    response = client.post(
        reverse("redemption:outside_shops"),
        {"org": group.pk, "name": "聚微量微商城", "shop_id": "S100", "secret": "abc"},
        follow=True,
    )
    html = response.content.decode()
    assert "已绑定" in html and "S100" in html
    shop = OutsideShop.objects.get()
    assert shop.secret == "abc"  # decrypted by the field; stored encrypted
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM redemption_outsideshop")
        assert cursor.fetchone()[0] != "abc"
    bad = client.post(
        reverse("redemption:outside_activities"),
        {
            "org": group.pk,
            "name": "鱼香肉丝券",
            "coupon_type": "item",
            "face_value": "30",
            "min_order_amount": "0",
            "per_order_limit": "1",
            "stores": [store.pk],
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
        },
    )
    assert "实物券必须选择对应的菜品" in bad.content.decode()
    dish = ProductFactory(sku="D001", name="鱼香肉丝")
    picked = client.post(
        reverse("redemption:outside_activities"),
        {
            "org": group.pk,
            "name": "鱼香肉丝券",
            "coupon_type": "item",
            "face_value": "30",
            "min_order_amount": "0",
            "per_order_limit": "1",
            "product": dish.pk,  # from the product master (the page's searchable select)
            "stores": [store.pk],
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
        },
    )
    assert picked.status_code == 302
    item = OutsideActivity.objects.get(name="鱼香肉丝券")
    assert item.product == dish and item.sku == "D001"
    item.delete()
    client.post(
        reverse("redemption:outside_activities"),
        {
            "org": group.pk,
            "name": "100元代金券",
            "coupon_type": "cash",
            "face_value": "100",
            "min_order_amount": "0",
            "per_order_limit": "1",
            "stores": [store.pk],
            "valid_from": "2020-01-01",
            "valid_to": "2099-12-31",
        },
    )
    activity = OutsideActivity.objects.get()
    assert activity.face_value == Decimal("100") and list(activity.stores.all()) == [store]
    client.post(
        reverse("redemption:outside_mappings"),
        {
            "shop": shop.pk,
            "product_id": "P60",
            "product_name": "【60代100元票券抢购】",
            "activity": activity.pk,
        },
    )
    html = client.get(reverse("redemption:outside_mappings")).content.decode()
    assert "【60代100元票券抢购】" in html and "【100元代金券】" in html


def test_outside_pages_need_the_permission_and_scope(client, store):
    client.force_login(user_with_role(Role.CLERK, store))
    assert client.get(reverse("redemption:outside_shops")).status_code == 403
    client.force_login(user_with_role(Role.OPERATOR, StoreFactory().parent))
    shop = OutsideShopFactory()
    assert client.post(reverse("redemption:outside_unbind", args=[shop.pk])).status_code == 404


def test_the_clerk_redeems_at_the_counter_page(client, store, sms_balance):
    client.force_login(user_with_role(Role.CLERK, store))
    item = OutsideCouponFactory(
        code="J880009",
        mapping__activity__coupon_type="item",
        mapping__activity__product=ProductFactory(sku="D001", name="鱼香肉丝"),
        mapping__activity__stores=[store],
    )
    url = reverse("redemption:outside_till")
    assert "autofocus" in client.get(url).content.decode()
    no_order = client.post(url, {"code": "j880009"})
    assert no_order.status_code == 400
    assert "订单中没有此券相关菜品,不能使用" in no_order.content.decode()
    line = MemberOrderItemFactory(order__store=store, order__order_no="20200525000", sku="D001")
    ok = client.post(url, {"code": "J880009", "order_no": line.order.order_no}, follow=True)
    assert "核销成功" in ok.content.decode()
    item.refresh_from_db()
    assert item.status == "used"
    missing = client.post(url, {"code": "J1"})
    assert "票券不存在" in missing.content.decode()


def test_an_order_takes_no_more_outside_coupons_than_the_activity_allows(store):
    from redemption.outside import redeem_outside_coupon
    from tests.redemption.factories import OutsideActivityFactory

    activity = OutsideActivityFactory(per_order_limit=2, stores=[store])
    mapping = OutsideProductMappingFactory(activity=activity)
    first, second, third = (OutsideCouponFactory(mapping=mapping) for _ in range(3))
    for coupon in (first, second):
        redeem_outside_coupon(
            code=coupon.code, store=store, items=None, order_no="POS-1", operator="till"
        )
    with pytest.raises(Refused) as refused:
        redeem_outside_coupon(
            code=third.code, store=store, items=None, order_no="POS-1", operator="till"
        )
    assert refused.value.code == "per_order_limit_reached"
    third.refresh_from_db()
    assert third.status == OutsideCoupon.Status.UNUSED
    redeem_outside_coupon(
        code=third.code, store=store, items=None, order_no="POS-2", operator="till"
    )


def test_the_purge_drops_nonces_of_clients_and_shops_older_than_ten_minutes(store):
    import datetime

    from django.utils import timezone

    from api.models import ApiNonce
    from api.tasks import purge_old_nonces_task
    from redemption.models import OutsideShopNonce

    shop, client = OutsideShopFactory(), ApiClientFactory(store=store)
    old = timezone.now() - datetime.timedelta(minutes=11)
    ApiNonce.objects.create(client=client, nonce="old", created_at=old)
    ApiNonce.objects.create(client=client, nonce="new")
    OutsideShopNonce.objects.create(shop=shop, nonce="old", created_at=old)
    OutsideShopNonce.objects.create(shop=shop, nonce="new")
    assert purge_old_nonces_task() == 2
    assert list(ApiNonce.objects.values_list("nonce", flat=True)) == ["new"]
    assert list(OutsideShopNonce.objects.values_list("nonce", flat=True)) == ["new"]
