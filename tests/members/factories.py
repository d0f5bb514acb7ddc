"""Factories of the members domain."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from members.models import Member, MemberOrder, MemberOrderItem
from tests.factories import StoreFactory


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    member_no = factory.Sequence(lambda n: f"{20001 + n}")
    name = factory.Sequence(lambda n: f"会员{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    card_no = factory.Sequence(lambda n: f"55{n:08d}")
    gender = Member.Gender.MALE
    birthday = datetime.date(1990, 5, 1)
    level = "钻石级"
    registration_store = factory.SubFactory(StoreFactory)


class MemberOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberOrder

    order_no = factory.Sequence(lambda n: f"{19000 + n}:194501")
    store = factory.SubFactory(StoreFactory)
    member = factory.SubFactory(MemberFactory)
    traded_at = factory.LazyFunction(timezone.now)
    item_count = 1
    total = Decimal("10.00")


class MemberOrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberOrderItem

    order = factory.SubFactory(MemberOrderFactory)
    sku = factory.Sequence(lambda n: f"SKU{n:05d}")
    name = factory.Sequence(lambda n: f"商品{n}")
    category = "中药饮片"
    qty = Decimal("1")
    amount = Decimal("10.00")
