"""Demo coupon rules of every medium/kind/benefit, campaigns and coupons in every status."""

import datetime
from decimal import Decimal

from django.utils import timezone

from couponhub.core.models import Org, User
from coupons import services
from coupons.models import Campaign, Coupon, CouponRule
from members.models import Member
from products.models import Category, Product

M, K, B = CouponRule.Medium, CouponRule.Kind, CouponRule.Benefit


def _rule(
    code, name, operator, group, finance, *, status="approved", usable=None, excluded=(), **fields
):
    today = timezone.localdate()
    defaults = {
        "effective_date": today - datetime.timedelta(days=30),
        "validity_type": CouponRule.ValidityType.FIXED,
        "valid_until": today + datetime.timedelta(days=180),
        "numeric_length": 6,
        "total": 1000,
        "min_order_amount": Decimal("300"),
    }
    defaults.update(fields)
    rule = CouponRule(code=code, name=name, creating_org=group, **defaults)
    services.save_rule(
        actor=operator,
        rule=rule,
        usable_orgs=usable or [group],
        excluded_categories=Category.objects.filter(code__in=excluded),
        confirm=True,
    )
    if status in ("in_review", "approved"):
        services.submit_rule(actor=operator, rule=rule)
    if status == "approved":
        services.approve_rule(actor=finance, rule=rule)
    return rule


def seed(out) -> None:
    if CouponRule.objects.filter(code="YHQ-FG-24000068").exists():
        return
    group = Org.objects.get(code="G-TRT")
    retail = Org.objects.get(code="R-RETAIL")
    store380 = Org.objects.get(code="380")
    operator = User.objects.get(username="operator")
    finance = User.objects.get(username="finance")
    cat = Member.objects.get(phone="17700000516")
    others = list(Member.objects.exclude(pk=cat.pk))
    today = timezone.localdate()

    cash = _rule(
        "YHQ-FG-24000001",
        "订单满300元减20元优惠券",
        operator,
        group,
        finance,
        benefit=B.CASH,
        face_value=Decimal("20"),
        code_prefix="RX",
        per_member_limit=5,
        excluded=["CFY"],  # 处方药 of the product master (products/demo.py)
        claim_deadline=today + datetime.timedelta(days=60),
    )
    discount = _rule(
        "YHQ-FG-24000002",
        "全场9.5折券",
        operator,
        group,
        finance,
        usable=[retail],
        benefit=B.DISCOUNT,
        discount_rate=Decimal("95"),
        code_prefix="ZK",
        min_order_amount=Decimal("100"),
    )
    product = _rule(
        "YHQ-FG-24000003",
        "煎药费抵用券",
        operator,
        group,
        finance,
        kind=K.MARKETING,
        benefit=B.PRODUCT,
        exchange_product=Product.objects.get(sku="6901234500042"),  # 煎药费
        code_prefix="SP",
        min_order_amount=Decimal("0"),
        validity_type=CouponRule.ValidityType.DAYS,
        valid_until=None,
        valid_days=30,
    )
    sale = _rule(
        "YHQ-FG-24000004",
        "9.9元购50元代金券",
        operator,
        group,
        finance,
        benefit=B.CASH,
        face_value=Decimal("50"),
        sale_price=Decimal("9.90"),
        code_prefix="GM",
        transferable=True,
    )
    food = _rule(
        "YHQ-FG-24000005",
        "聚食汇满100减10",
        operator,
        group,
        finance,
        usable=[Org.objects.get(code="R-FOOD")],
        benefit=B.CASH,
        face_value=Decimal("10"),
        code_prefix="JS",
        min_order_amount=Decimal("100"),
    )
    jy1 = _rule(
        "YHQ-FG-24000068",
        "1付药-指定门店可用",
        operator,
        group,
        finance,
        kind=K.U_VALUE_EXCHANGE,
        u_value_price=2000,
        benefit=B.PRODUCT,
        exchange_product=Product.objects.get(sku="6901234500042"),
        description="无门槛赠送煎药费等赠品",
        min_order_amount=Decimal("0"),
        code_prefix="JY",
    )
    jy7 = _rule(
        "YHQ-FG-24000070",
        "7付药-指定门店可用",
        operator,
        group,
        finance,
        kind=K.U_VALUE_EXCHANGE,
        u_value_price=12000,
        benefit=B.CASH,
        face_value=Decimal("35"),
        description="无门槛赠送煎药费等赠品",
        min_order_amount=Decimal("0"),
        code_prefix="JQ",
    )
    physical = _rule(
        "YHQ-SW-24000010",
        "实物代金券100元",
        operator,
        group,
        finance,
        medium=M.PHYSICAL,
        benefit=B.CASH,
        face_value=Decimal("100"),
        code_prefix="SW",
        total=200,
    )
    recharge = _rule(
        "YHQ-SW-24000011",
        "储值卡充值券200元",
        operator,
        group,
        finance,
        medium=M.PHYSICAL,
        benefit=B.RECHARGE,
        face_value=Decimal("200"),
        recharge_number_length=18,
        code_prefix="CZ",
        total=50,
        min_order_amount=Decimal("0"),
    )
    _rule(
        "YHQ-FG-24000090",
        "双十一满减券（暂存）",
        operator,
        group,
        finance,
        status="draft",
        benefit=B.CASH,
        face_value=Decimal("30"),
        code_prefix="DR",
    )
    _rule(
        "YHQ-FG-24000091",
        "会员日8折券（审核中）",
        operator,
        group,
        finance,
        status="in_review",
        benefit=B.DISCOUNT,
        discount_rate=Decimal("80"),
        code_prefix="SH",
    )
    disabled = _rule(
        "YHQ-FG-24000092",
        "春节满200减30（已禁用）",
        operator,
        group,
        finance,
        benefit=B.CASH,
        face_value=Decimal("30"),
        code_prefix="CJ",
    )
    invalid = _rule(
        "YHQ-FG-24000093",
        "周年庆券（已失效）",
        operator,
        group,
        finance,
        benefit=B.CASH,
        face_value=Decimal("15"),
        code_prefix="ZN",
    )

    c1 = Campaign.objects.create(
        code="FQ24000149",
        name="积分商城-煎药券-1付药",
        rule=jy1,
        channel=Campaign.Channel.POINTS_MALL,
        u_value_price=2000,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=150),
        created_by=operator,
    )
    c7 = Campaign.objects.create(
        code="FQ24000151",
        name="积分商城-煎药券-7付药",
        rule=jy7,
        channel=Campaign.Channel.POINTS_MALL,
        u_value_price=12000,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=150),
        created_by=operator,
    )
    services.save_campaign(
        actor=operator,
        campaign=Campaign(
            code="FQ24000160",
            name="小程序新人礼-煎药费",
            rule=product,
            channel=Campaign.Channel.MINI_PROGRAM,
            starts_on=today - datetime.timedelta(days=10),
            ends_on=today + datetime.timedelta(days=90),
        ),
    )

    # the counter demo: 17700000516 at store 380 has usable coupons
    for _ in range(3):
        services.claim_coupon(actor=None, rule=cash, member=cat)
    services.claim_coupon(actor=None, rule=discount, member=cat)
    services.claim_coupon(actor=None, rule=product, member=cat)
    services.purchase_coupon(actor=None, rule=sale, member=cat, payment_method="微信支付")
    services.exchange_coupon(actor=None, member=cat, campaign=c1)
    services.exchange_coupon(actor=None, member=cat, campaign=c7)
    services.claim_coupon(actor=None, rule=food, member=cat)  # not usable at 380
    used = services.claim_coupon(actor=None, rule=cash, member=cat)
    now = timezone.now()
    Coupon.objects.filter(pk=used.pk).update(
        status=Coupon.Status.USED, used_at=now, used_store=store380
    )
    expired = services.claim_coupon(actor=None, rule=discount, member=cat)
    Coupon.objects.filter(pk=expired.pk).update(
        valid_from=now - datetime.timedelta(days=60), valid_to=now - datetime.timedelta(days=1)
    )
    services.void_coupon(
        actor=operator, coupon=services.claim_coupon(actor=None, rule=product, member=cat)
    )
    services.freeze_coupon(
        actor=operator, coupon=services.claim_coupon(actor=None, rule=cash, member=cat)
    )
    for member in others:
        services.claim_coupon(actor=None, rule=cash, member=member)
        services.exchange_coupon(actor=None, member=member, campaign=c1)
    services.gift_coupons(actor=operator, rule=discount, member_ids=[m.pk for m in others])

    # physical: generate, receive some at 380, distribute a few (one to the demo member)
    for rule in (physical, recharge):
        services.start_generation(actor=operator, rule=rule)
        first = rule.format_code(rule.start_value)
        services.receive_physical(
            actor=operator,
            rule=rule,
            code_from=first,
            code_to=rule.format_code(rule.start_value + 19),
            store=store380,
        )
        services.distribute_physical(
            actor=operator,
            rule=rule,
            code_from=first,
            code_to=rule.format_code(rule.start_value + 1),
            customer_name=cat.name,
            member=cat,
        )
    services.set_rule_disabled(actor=operator, rule=disabled, disabled=True)
    services.set_rule_invalidated(actor=operator, rule=invalid, invalidated=True)
    out.write(
        f"  coupons: {CouponRule.objects.count()} rules, {Campaign.objects.count()} campaigns, "
        f"{Coupon.objects.count()} coupons (17700000516 has usable coupons at store 380)"
    )
