"""Factories of the promo-code domain."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from promocodes.models import (
    Channel,
    Department,
    DepartmentBudget,
    DiscountType,
    Generation,
    Merchant,
    PromoCode,
    PromoCodeApplication,
    Subject,
)
from tests.factories import OrgFactory


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")
    code = factory.Sequence(lambda n: f"D{n:03d}")


class BudgetFactory(factory.django.DjangoModelFactory):
    """A budget covering the whole current year."""

    class Meta:
        model = DepartmentBudget

    department = factory.SubFactory(DepartmentFactory)
    period_start = factory.LazyFunction(lambda: timezone.localdate().replace(month=1, day=1))
    period_end = factory.LazyFunction(lambda: timezone.localdate().replace(month=12, day=31))
    amount = Decimal("100000.00")
    spent = Decimal("0.00")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"商家{n}")
    code = factory.Sequence(lambda n: f"M{n:03d}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"渠道{n}")
    prefix = factory.Sequence(lambda n: f"Q{n}")
    department = factory.SubFactory(DepartmentFactory)
    status = Channel.Status.ENABLED


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An approved, active platform application: 80% off, floor 20, cap 55.55 (the seed's)."""

    class Meta:
        model = PromoCodeApplication
        skip_postgeneration_save = True

    org = factory.SubFactory(OrgFactory)
    subject = Subject.PLATFORM
    channel = factory.SubFactory(ChannelFactory)
    department = factory.SelfAttribute("channel.department")
    activity_name = factory.Sequence(lambda n: f"活动{n}")
    generation = Generation.MANUAL
    quantity = 1
    discount_type = DiscountType.PERCENT
    discount_rate = Decimal("80")
    floor_amount = Decimal("20")
    cap_amount = Decimal("55.55")
    valid_from = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    valid_to = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))
    status = PromoCodeApplication.Status.APPROVED


class PromoCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromoCode

    code = factory.Sequence(lambda n: f"PC{n:05d}")
    application = factory.SubFactory(ApplicationFactory)
    max_uses = factory.SelfAttribute("application.max_uses")
