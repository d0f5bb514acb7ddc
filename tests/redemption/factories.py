"""Factories of the redemption domain."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from redemption.models import (
    OutsideActivity,
    OutsideCoupon,
    OutsideProductMapping,
    OutsideShop,
    Redemption,
    RedemptionLine,
)
from tests.coupons.factories import CouponFactory
from tests.factories import OrgFactory, StoreFactory, UserFactory


class RedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Redemption

    redemption_no = factory.Sequence(lambda n: f"HX{n:012d}")
    store = factory.SubFactory(StoreFactory)
    clerk = factory.SubFactory(UserFactory)
    app = "门店后台"
    method = Redemption.Method.SMS


class RedemptionLineFactory(factory.django.DjangoModelFactory):
    """A line whose coupon really is used (as the service leaves it)."""

    class Meta:
        model = RedemptionLine

    redemption = factory.SubFactory(RedemptionFactory)
    coupon = factory.SubFactory(
        CouponFactory,
        status="used",
        used_at=factory.LazyFunction(timezone.now),
        member=factory.SelfAttribute("..redemption.member"),
    )


class OutsideShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutsideShop

    org = factory.SubFactory(OrgFactory)
    name = "聚微量微商城"
    shop_id = factory.Sequence(lambda n: f"JWL{n:05d}")
    secret = "shop-secret"
    bound_at = factory.LazyFunction(timezone.now)


class OutsideActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutsideActivity
        skip_postgeneration_save = True

    org = factory.SubFactory(OrgFactory)
    name = "100元代金券"
    coupon_type = OutsideActivity.Type.CASH
    face_value = Decimal("100.00")
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    valid_to = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))

    @factory.post_generation
    def stores(self, create, extracted, **kwargs):
        if create and extracted:
            self.stores.set(extracted)


class OutsideProductMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutsideProductMapping

    shop = factory.SubFactory(OutsideShopFactory)
    product_id = factory.Sequence(lambda n: f"P{n:05d}")
    product_name = "【60代100元票券抢购】"
    activity = factory.SubFactory(OutsideActivityFactory)


class OutsideCouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutsideCoupon

    code = factory.Sequence(lambda n: f"J{880000 + n}")
    mapping = factory.SubFactory(OutsideProductMappingFactory)
    shop = factory.SelfAttribute("mapping.shop")
    activity = factory.SelfAttribute("mapping.activity")
    phone = "18100004469"
