"""Factories of the pickup app."""

import factory

from pickup.models import (
    Brand,
    CardType,
    CardTypeItem,
    Category,
    CodeBatch,
    Courier,
    PickupCode,
    PickupOrder,
    PickupOrderItem,
    PickupStore,
    Product,
    SpecAttribute,
    SpecValue,
)
from tests.factories import StoreFactory


class PickupStoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PickupStore

    store = factory.SubFactory(StoreFactory)
    address = factory.Sequence(lambda n: f"北京市东城区测试路{n}号")
    contact_name = "张三"
    contact_phone = "010-88886666"
    manager_phone = "13800138000"


class CourierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Courier

    name = factory.Sequence(lambda n: f"快递{n}")
    code = factory.Sequence(lambda n: f"KD{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"类别{n}")


class SpecAttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SpecAttribute

    name = factory.Sequence(lambda n: f"属性{n}")


class SpecValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SpecValue

    attribute = factory.SubFactory(SpecAttributeFactory)
    value = factory.Sequence(lambda n: f"值{n}")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"品牌{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"阳澄湖大闸蟹{n}号")
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    price = "188.00"


class CardTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CardType
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"{2388 + n}套餐")
    face_value = "2388.00"

    @factory.post_generation
    def product_list(self, create, extracted, **kwargs):
        if not create:
            return
        for i, product in enumerate(extracted or [ProductFactory()]):
            CardTypeItem.objects.create(card_type=self, product=product, sort_order=i)


class CodeBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CodeBatch

    card_type = factory.SubFactory(CardTypeFactory)
    prefix = "T"
    code_length = 12
    code_format = "mixed"
    password_length = 8
    password_format = "digits"
    quantity = 1000
    serial_start = factory.Sequence(lambda n: 1_000_000 + n * 1000)


class PickupCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PickupCode

    batch = factory.SubFactory(CodeBatchFactory)
    card_type = factory.SelfAttribute("batch.card_type")
    # inside the batch's serial range, as the services keep it
    serial = factory.LazyAttributeSequence(lambda o, n: o.batch.serial_start + n % 1000)
    code = factory.Sequence(lambda n: f"TC{n:010d}")
    password = factory.Sequence(lambda n: f"{n:08d}")


class PickupOrderFactory(factory.django.DjangoModelFactory):
    """An online order on a used code (pass kind="store", store=… for a store order)."""

    class Meta:
        model = PickupOrder
        skip_postgeneration_save = True

    code = factory.SubFactory(PickupCodeFactory, status=PickupCode.Status.USED)
    card_type = factory.SelfAttribute("code.card_type")
    kind = PickupOrder.Kind.ONLINE
    order_no = factory.Sequence(lambda n: f"P260101{n:09d}")
    consumer_name = "王小二"
    consumer_phone = factory.Sequence(lambda n: f"139{n:08d}")
    province = "北京市"
    city = "北京市"
    district = "朝阳区"
    address = "朝阳公园路6号"

    @factory.post_generation
    def with_items(self, create, extracted, **kwargs):
        if create:
            for item in self.card_type.items.select_related("product"):
                PickupOrderItem.objects.create(
                    order=self, product=item.product, product_name=item.product.name
                )


class StoreOrderFactory(PickupOrderFactory):
    kind = PickupOrder.Kind.STORE
    store = factory.SubFactory(PickupStoreFactory)
    pickup_date = factory.LazyFunction(lambda: __import__("datetime").date.today())
    province = ""
    city = ""
    district = ""
    address = ""
