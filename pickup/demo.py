"""Demo data of gift-card pickup: catalogue, stores, couriers, two card types and a small batch."""

import datetime as dt

from django.utils import timezone

from couponhub.core.models import Org, User
from pickup import services
from pickup.models import (
    Brand,
    CardType,
    Category,
    CodeBatch,
    Courier,
    PickupCode,
    PickupOrder,
    PickupSettings,
    PickupStore,
    Product,
    RedPacketAccount,
    RedPacketSettings,
    SpecAttribute,
    SpecValue,
)

COURIERS = [
    ("顺丰速运", "SF"),
    ("中通快递", "ZTO"),
    ("圆通速递", "YTO"),
    ("京东物流", "JD"),
    ("EMS", "EMS"),
]
SPECS = [("产地", ["阳澄湖", "太湖"]), ("重量", ["公蟹4.0两", "母蟹3.0两"]), ("包装", ["礼盒装"])]
PRODUCTS = [
    (
        "阳澄湖大闸蟹 公4.0两 母3.0两 8只装",
        "128.00",
        ["阳澄湖", "公蟹4.0两", "母蟹3.0两", "礼盒装"],
    ),
    ("阳澄湖大闸蟹 公4.0两 母3.0两 10只装", "168.00", ["阳澄湖", "公蟹4.0两", "礼盒装"]),
    ("太湖大闸蟹 8只装", "98.00", ["太湖", "礼盒装"]),
    ("同仁堂西洋参礼盒", "388.00", ["礼盒装"]),
]


def _category(name: str) -> Category:
    found = Category.objects.filter(name=name).first()
    return found or services.save_category(actor=None, category=Category(name=name))


def seed(out) -> None:
    settings_obj = PickupSettings.load()
    if not settings_obj.contact_phone:
        settings_obj.contact_phone = "4006-110-166"
        settings_obj.pickup_notes = (
            "1. 刮开密码涂层，输入提货码和密码。\n2. 选择快递到家或门店自提。"
        )
        settings_obj.admin_phones = "13800000001"
        services.save_settings(actor=None, instance=settings_obj)
    for name, code in COURIERS:
        if not Courier.objects.filter(code=code).exists():
            services.save_courier(actor=None, courier=Courier(code=code, name=name))
    for store_code, address, phone in [
        ("380", "北京市朝阳区朝阳公园路6号蓝色港湾", "13800138380"),
        ("201", "北京市东城区崇文门外大街3号新世界百货", "13800138201"),
    ]:
        store = Org.objects.filter(code=store_code).first()
        if store is not None and not PickupStore.objects.filter(store=store).exists():
            pickup_store = PickupStore(
                store=store,
                address=address,
                manager_phone=phone,
                contact_name="店长",
                contact_phone="010-65000000",
            )
            services.save_pickup_store(actor=None, pickup_store=pickup_store)
    for name, values in SPECS:
        if not SpecAttribute.objects.filter(name=name).exists():
            services.save_spec_attribute(
                actor=None, attribute=SpecAttribute(name=name), values=values
            )
    food = _category("生鲜水产")
    gift = _category("滋补礼盒")
    brand = Brand.objects.filter(name="蟹状元").first() or services.save_brand(
        actor=None, brand=Brand(name="蟹状元")
    )
    for name, price, specs in PRODUCTS:
        if not Product.objects.filter(name=name).exists():
            product = Product(
                name=name,
                category=gift if "参" in name else food,
                brand=brand,
                price=price,
                unit="盒",
            )
            services.save_product(
                actor=None,
                product=product,
                spec_values=SpecValue.objects.filter(value__in=specs),
            )
    products = list(Product.objects.filter(name__in=[p[0] for p in PRODUCTS]).order_by("id"))
    cards = {}
    for name, value, selection, count, items in [
        ("2388套餐", "2388.00", CardType.Selection.FIXED, 1, products[:1]),
        ("3888套餐", "3888.00", CardType.Selection.CHOOSE, 2, products),
    ]:
        card = CardType.objects.filter(name=name).first()
        if card is None:
            card = services.save_card_type(
                actor=None,
                card_type=CardType(
                    name=name, face_value=value, selection=selection, choose_count=count
                ),
                items=[(p, 1) for p in items],
                stores=PickupStore.objects.all(),
            )
        cards[name] = card
    batch = CodeBatch.objects.filter(card_type=cards["2388套餐"], prefix="DM").first()
    if batch is None:
        batch = services.create_code_batch(
            actor=None,
            card_type=cards["2388套餐"],
            spec=services.GenerationSpec(quantity=50, prefix="DM", code_length=10),
            background=False,
        )
    services.fill_code_batch(batch)
    _seed_orders_and_red_packets(batch)
    codes = PickupCode.objects.filter(
        batch=batch, status=PickupCode.Status.UNUSED, orders__isnull=True
    ).order_by("serial")
    code = codes.filter(red_packet_amount=0).first()
    packet = codes.filter(red_packet_amount__gt=0).first()
    out.write(
        f"Pickup demo: card types 2388套餐 / 3888套餐, batch {batch.pk} of {batch.quantity} codes; "
        f"try code {code.code} password {code.password} at /pickup/c/{code.code}/"
    )
    if packet:
        out.write(
            f"  with a red packet of ¥{packet.red_packet_amount}: code {packet.code} "
            f"password {packet.password} at /pickup/c/{packet.code}/"
        )


def _seed_orders_and_red_packets(batch) -> None:
    """A few orders in every state, red-packet settings and account, one code with a packet."""
    RedPacketSettings.load()
    if RedPacketAccount.load().top_ups_total == 0:
        services.top_up_red_packets(actor=None, amount="500.00", note="演示数据初始充值")
    if PickupOrder.objects.exists():
        return
    operator = User.objects.filter(username="operator").first()
    codes = list(PickupCode.objects.filter(batch=batch).order_by("serial")[:8])
    if len(codes) < 8:
        return
    today = timezone.localdate()
    people = [
        ("王小二", "13911110001", "北京市", "北京市", "朝阳区", "望京街道阜通东大街6号"),
        ("李红", "13911110002", "上海市", "上海市", "浦东新区", "世纪大道100号"),
        ("张伟", "13911110003", "广东省", "广州市", "天河区", "天河路385号"),
        ("刘洋", "13911110004", "浙江省", "杭州市", "西湖区", "文三路90号"),
        ("陈静", "13911110005", "江苏省", "苏州市", "姑苏区", "人民路1号"),
    ]
    orders = []
    for code, (name, phone, province, city, district, address) in zip(codes, people, strict=False):
        orders.append(
            services.place_order(
                serial=code.serial,
                product_ids=[],
                delivery=services.Delivery(
                    kind="online",
                    name=name,
                    phone=phone,
                    province=province,
                    city=city,
                    district=district,
                    address=address,
                ),
                client_ip="127.0.0.1",
            )
        )
    sf = Courier.objects.filter(code="SF").first()
    zto = Courier.objects.filter(code="ZTO").first()
    services.ship_order(actor=operator, order=orders[1], courier=sf, tracking_no="SF1400213370566")
    services.ship_order(actor=operator, order=orders[2], courier=zto, tracking_no="75388002915733")
    services.complete_order(actor=operator, order=orders[2])
    services.cancel_order(actor=operator, order=orders[3], reason="用户来电取消")
    services.delete_orders(actor=operator, orders=PickupOrder.objects.filter(pk=orders[4].pk))
    store = PickupStore.objects.filter(store__code="380").first()
    if store is not None:
        for code, (name, phone) in zip(
            codes[5:7], [("赵敏", "13911110006"), ("孙丽", "13911110007")], strict=True
        ):
            order = services.place_order(
                serial=code.serial,
                product_ids=[],
                delivery=services.Delivery(
                    kind="store",
                    name=name,
                    phone=phone,
                    store=store,
                    pickup_date=today + dt.timedelta(days=1),
                ),
                client_ip="127.0.0.1",
            )
        services.verify_store_order(
            actor=User.objects.filter(username="manager").first(), order=order, phone=phone
        )
    # one unused code further on gets a red packet
    packet_code = PickupCode.objects.filter(batch=batch).order_by("serial")[10]
    services.generate_red_packets(
        actor=operator,
        selection={"serial_from": str(packet_code.serial), "serial_to": str(packet_code.serial)},
        low="8.88",
        high="8.88",
    )
