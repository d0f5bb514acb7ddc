"""Factories of the coupons domain."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from coupons.models import Campaign, Coupon, CouponRule
from tests.factories import OrgFactory
from tests.members.factories import MemberFactory


class CouponRuleFactory(factory.django.DjangoModelFactory):
    """An approved electronic ordinary cash rule, usable in the whole group by default."""

    class Meta:
        model = CouponRule
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"YHQ-FG-{24000000 + n}")
    name = factory.Sequence(lambda n: f"满300减20优惠券{n}")
    creating_org = factory.SubFactory(OrgFactory)
    benefit = CouponRule.Benefit.CASH
    face_value = Decimal("20.00")
    min_order_amount = Decimal("300.00")
    effective_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    validity_type = CouponRule.ValidityType.FIXED
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    code_prefix = factory.Sequence(lambda n: f"T{n}X")
    numeric_length = 8
    total = 100
    start_value = 0
    status = CouponRule.Status.APPROVED
    end_value = factory.LazyAttribute(lambda o: o.start_value + o.total - 1)

    @factory.post_generation
    def usable_orgs(self, create, extracted, **kwargs):
        if not create:
            return
        orgs = extracted if extracted is not None else [self.creating_org]
        self.usable_orgs.set(orgs)

    @factory.post_generation
    def excluded_categories(self, create, extracted, **kwargs):
        """Categories of the product master, or their names (made when missing)."""
        if not create or not extracted:
            return
        from products.models import Category

        categories = []
        for c in extracted:
            if isinstance(c, str):
                c = Category.objects.filter(name=c).first() or Category.objects.create(
                    code=f"C{Category.objects.count() + 1:04d}", name=c
                )
            categories.append(c)
        self.excluded_categories.set(categories)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    code = factory.Sequence(lambda n: f"FQ{24000100 + n}")
    name = factory.Sequence(lambda n: f"积分商城-煎药券-{n}付药")
    rule = factory.SubFactory(CouponRuleFactory)
    channel = Campaign.Channel.POINTS_MALL
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class CouponFactory(factory.django.DjangoModelFactory):
    """An unused electronic coupon held by a member, valid now."""

    class Meta:
        model = Coupon

    rule = factory.SubFactory(CouponRuleFactory)
    number = factory.Sequence(lambda n: n)
    code = factory.LazyAttribute(lambda o: o.rule.format_code(o.number))
    status = Coupon.Status.UNUSED
    channel = Coupon.Channel.CLAIM
    member = factory.SubFactory(MemberFactory)
    obtained_at = factory.LazyFunction(timezone.now)
    valid_from = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    valid_to = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=10))
