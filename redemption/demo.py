"""Demo data of seed 003 (an outside shop, activity, mapping and coupons) and a few redemptions."""

import datetime

from django.utils import timezone

from couponhub.core.models import Org, User
from coupons.models import Coupon
from members.models import Member
from products.models import Product
from redemption import outside, services
from redemption.models import OutsideActivity, OutsideProductMapping, OutsideShop, Redemption


def seed(out) -> None:
    if OutsideShop.objects.filter(shop_id="JWL-DEMO-001").exists():
        return
    group = Org.objects.get(code="G-TRT")
    food_stores = list(Org.objects.filter(code__in=["501", "502"]))
    shop = outside.bind_shop(
        actor=None, org=group, name="聚微量微商城", shop_id="JWL-DEMO-001", secret="demo-secret"
    )
    today = timezone.localdate()
    cash = outside.save_activity(
        actor=None,
        activity=OutsideActivity(
            org=group,
            name="100元代金券",
            coupon_type=OutsideActivity.Type.CASH,
            face_value=100,
            valid_from=today - datetime.timedelta(days=30),
            valid_to=today + datetime.timedelta(days=180),
        ),
        stores=food_stores,
    )
    dish = outside.save_activity(
        actor=None,
        activity=OutsideActivity(
            org=group,
            name="鱼香肉丝兑换券",
            coupon_type=OutsideActivity.Type.ITEM,
            face_value=38,
            product=Product.objects.get(sku="D001"),  # 鱼香肉丝 (products/demo.py)
            valid_from=today - datetime.timedelta(days=30),
            valid_to=today + datetime.timedelta(days=180),
        ),
        stores=food_stores,
    )
    m1 = outside.save_mapping(
        actor=None,
        mapping=OutsideProductMapping(
            shop=shop, product_id="P60", product_name="【60代100元票券抢购】", activity=cash
        ),
    )
    outside.save_mapping(
        actor=None,
        mapping=OutsideProductMapping(
            shop=shop, product_id="P19", product_name="【19.9元鱼香肉丝】", activity=dish
        ),
    )
    outside.receive_outside_coupons(
        shop=shop,
        coupons=[
            {"code": f"88000{i}", "product_id": m1.product_id if i < 3 else "P19", "phone": ""}
            for i in range(5)
        ],
    )
    # the demo member's own outside coupon (the wallet shows it), and one redeemed at 501 (a
    # row of the records page, with its 消费号)
    cat = Member.objects.filter(phone="17700000516").first()
    if cat:
        outside.receive_outside_coupons(
            shop=shop, coupons=[{"code": "880009", "product_id": "P60", "phone": cat.phone}]
        )
    guomao = Org.objects.filter(code="501").first()
    if guomao:
        outside.redeem_outside_coupon(
            code="J880001", store=guomao, items=None, order_no="", operator="clerk2"
        )
    # a redemption for the records page: member 10002 at store 201
    clerk = User.objects.filter(username="clerk").first()
    member = Member.objects.filter(member_no="10002").first()
    store = Org.objects.filter(code="380").first()
    if clerk and member and store and not Redemption.objects.exists():
        usable = [c for c in Coupon.objects.filter(member=member) if c.is_usable_at(store)][:1]
        if usable:
            services.redeem_coupons(
                store=store,
                coupon_ids=[c.pk for c in usable],
                member=member,
                actor=clerk,
                app="门店后台",
                method=Redemption.Method.SMS,
            )
    out.write(
        "  redemption: outside shop 聚微量微商城 (JWL-DEMO-001), 2 activities, J-coupons J880000…"
    )
