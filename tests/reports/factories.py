"""Factories and a small seeded world for the reports tests."""

import datetime
from decimal import Decimal

from django.utils import timezone

from coupons import services as coupon_services
from coupons.models import Coupon, CouponRule
from members import services as member_services
from tests.coupons.factories import CampaignFactory, CouponRuleFactory
from tests.factories import OrgFactory, RegionFactory, StoreFactory
from tests.members.factories import MemberFactory
from tests.products.factories import ProductFactory


def u_value_rule(**kwargs) -> CouponRule:
    defaults = {
        "kind": CouponRule.Kind.U_VALUE_EXCHANGE,
        "u_value_price": 2000,
        "benefit": CouponRule.Benefit.PRODUCT,
        "face_value": None,
        "exchange_product": ProductFactory(sku="6901234500042", name="煎药费1付"),
        "description": "无门槛赠送煎药费等赠品",
        "min_order_amount": Decimal("1"),
        "effective_date": timezone.localdate() - datetime.timedelta(days=30),
    }
    defaults.update(kwargs)
    return CouponRuleFactory(**defaults)


def exchanged(member, campaign, *, obtained_at=None):
    """A coupon exchanged for U-value, back-dated to `obtained_at` (default: yesterday noon)."""
    member_services.change_u_value(
        member=member, delta=campaign.u_value_price, reason="test top-up", actor=None
    )
    coupon = coupon_services.exchange_coupon(actor=None, member=member, campaign=campaign)
    when = obtained_at or (timezone.now() - datetime.timedelta(days=1))
    Coupon.objects.filter(pk=coupon.pk).update(obtained_at=when, created_at=when)
    coupon.refresh_from_db()
    return coupon


def redeem(coupon, store, when):
    Coupon.objects.filter(pk=coupon.pk).update(
        status=Coupon.Status.USED, used_at=when, used_store=store
    )
    coupon.refresh_from_db()
    return coupon


class World:
    """group → two regions → three stores; members registered at stores; a U-value campaign."""

    def __init__(self):
        self.group = OrgFactory(name="同仁堂健康")
        self.region = RegionFactory(parent=self.group, name="零售")
        self.other_region = RegionFactory(parent=self.group, name="餐饮")
        self.store = StoreFactory(parent=self.region, name="蓝港店", code="380")
        self.store2 = StoreFactory(parent=self.region, name="崇文门店", code="201")
        self.store3 = StoreFactory(parent=self.other_region, name="零号店", code="283")
        self.rule = u_value_rule(creating_org=self.group, usable_orgs=[self.group])
        self.rule7 = u_value_rule(
            creating_org=self.group,
            usable_orgs=[self.group],
            name="7付药-指定门店可用",
            benefit=CouponRule.Benefit.CASH,
            face_value=Decimal("35.00"),
            exchange_product=None,
            u_value_price=12000,
        )
        self.campaign = CampaignFactory(
            rule=self.rule, u_value_price=2000, name="积分商城-煎药券-1付药"
        )
        self.campaign7 = CampaignFactory(
            rule=self.rule7, u_value_price=12000, name="积分商城-煎药券-7付药"
        )
        self.member = MemberFactory(registration_store=self.store, phone="17700000516")
        self.member2 = MemberFactory(registration_store=self.store3)
        self.ordinary = CouponRuleFactory(creating_org=self.group, usable_orgs=[self.group])
