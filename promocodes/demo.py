"""Demo data: departments with budgets, merchants, channels, finance limits and promo codes in
every status, among them the active platform code DEMO80 (the seed's 80 %, floor 20, cap 55.55)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from couponhub.core.models import Org, User
from promocodes import services
from promocodes.models import (
    Channel,
    Department,
    DepartmentBudget,
    FinanceLimits,
    Merchant,
    PromoCodeApplication,
    StaffDepartment,
)

D = Decimal
DEPARTMENTS = [("MKT", "市场部"), ("CRM", "会员运营部"), ("O2O", "到家事业部")]
MERCHANTS = [
    ("JSH", "聚食汇"),
    ("TRT", "同仁堂药房"),
]
CHANNELS = [
    ("微信公众号", "WX", "MKT", "enable"),
    ("抖音直播间", "DY", "O2O", "enable"),
    ("线下海报", "HB", "CRM", None),
    ("旧版App弹窗", "OLD", "MKT", "disable"),
]


def _applications(now):
    day = dt.timedelta(days=1)
    return [
        # code, channel prefix, department, final step, overrides
        ("DEMO80", "WX", "MKT", "approve", {"activity_name": "会员日8折（演示）"}),
        (
            "NEWUSER10",
            "DY",
            "O2O",
            "approve",
            {
                "activity_name": "新人首单立减10元",
                "discount_type": "direct",
                "direct_amount": D("10"),
                "floor_amount": D("30"),
                "user_level": "new_user_first",
                "per_user_limit": 1,
            },
        ),
        (
            "JSH100M20",
            "DY",
            "O2O",
            "approve",
            {
                "activity_name": "聚食汇满100减20",
                "subject": "merchant",
                "merchant": "JSH",
                "discount_type": "threshold",
                "threshold_amount": D("100"),
                "direct_amount": D("20"),
            },
        ),
        (
            "DRAFT88",
            "WX",
            "MKT",
            None,
            {"activity_name": "端午活动（草稿）", "discount_rate": D("88")},
        ),
        (
            "PENDING90",
            "WX",
            "CRM",
            "submit",
            {"activity_name": "会员周9折（待审核）", "discount_rate": D("90")},
        ),
        (
            "REJECT50",
            "DY",
            "O2O",
            "reject",
            {"activity_name": "清仓5折（已驳回）", "discount_rate": D("50")},
        ),
        (
            "SOON85",
            "WX",
            "MKT",
            "approve",
            {
                "activity_name": "下月新品85折（审核通过未开始）",
                "discount_rate": D("85"),
                "valid_from": now + 10 * day,
                "valid_to": now + 40 * day,
            },
        ),
        (
            "OLD75",
            "WX",
            "MKT",
            "approve",
            {
                "activity_name": "春节75折（已过期）",
                "discount_rate": D("75"),
                "valid_from": now - 60 * day,
                "valid_to": now - 30 * day,
            },
        ),
        (
            "STOP70",
            "DY",
            "O2O",
            "invalidate",
            {"activity_name": "直播专享7折（手动失效）", "discount_rate": D("70")},
        ),
    ]


def seed(out) -> None:
    today = timezone.localdate()
    now = timezone.now()
    departments = {}
    for code, name in DEPARTMENTS:
        departments[code] = Department.objects.filter(code=code).first() or (
            services.create_department(actor=None, name=name, code=code)
        )
        if not DepartmentBudget.objects.filter(department=departments[code]).exists():
            services.set_department_budget(
                actor=None,
                department=departments[code],
                period_start=today.replace(month=1, day=1),
                period_end=today.replace(month=12, day=31),
                amount=D("200000"),
            )
    for code, name in MERCHANTS:  # categories: the chain's product master (products/demo.py)
        Merchant.objects.get_or_create(code=code, defaults={"name": name})
    if not FinanceLimits.objects.exists():
        services.update_finance_limits(
            actor=None,
            min_discount_rate=D("50"),
            max_direct_amount=D("50"),
            max_threshold_ratio=D("0.3"),
        )
    operator = User.objects.filter(username="operator").first()
    finance = User.objects.filter(username="finance").first()
    if operator and not StaffDepartment.objects.filter(user=operator).exists():
        StaffDepartment.objects.create(user=operator, department=departments["MKT"])
    for name, prefix, dept, step in CHANNELS:
        channel = Channel.objects.filter(prefix=prefix).first()
        if channel is None:
            channel = services.create_channel(
                actor=operator, name=name, prefix=prefix, department=departments[dept]
            )
            if step == "disable":
                services.change_channel_status(actor=operator, channel=channel, action="enable")
            if step:
                services.change_channel_status(actor=operator, channel=channel, action=step)

    org = Org.objects.filter(parent__isnull=True).order_by("pk").first()
    base_store = Org.objects.filter(kind=Org.Kind.STORE).order_by("pk").first()
    created = 0
    for code, prefix, dept, step, overrides in _applications(now):
        if PromoCodeApplication.objects.filter(codes__code=code).exists():
            continue
        data = {
            **_applications_base(now),
            **overrides,
            "manual_code": code,
            "channel": Channel.objects.get(prefix=prefix),
            "department": departments[dept],
        }
        if data.get("merchant"):
            data["merchant"] = Merchant.objects.get(code=data["merchant"])
        result = services.apply_for_promo_codes(actor=operator, org=org, data=data)
        app = result.application
        if step in {"submit", "approve", "reject", "invalidate"}:
            services.submit_applications(actor=operator, applications=[app])
        if step in {"approve", "invalidate"}:
            services.approve_applications(actor=finance, applications=[app])
        if step == "reject":
            services.reject_applications(actor=finance, applications=[app], reason="折扣力度过大")
        if step == "invalidate":
            app.refresh_from_db()
            services.invalidate_application(actor=operator, application=app)
        created += 1
    # an automatic batch for the offline poster channel's sister channel
    if not PromoCodeApplication.objects.filter(activity_name="地推满50减5（自动生成）").exists():
        data = {
            **_applications_base(now),
            "activity_name": "地推满50减5（自动生成）",
            "generation": "auto",
            "quantity": 20,
            "manual_code": "",
            "discount_type": "threshold",
            "threshold_amount": D("50"),
            "direct_amount": D("5"),
            "max_uses": 1,
            "channel": Channel.objects.get(prefix="WX"),
            "department": departments["MKT"],
        }
        result = services.apply_for_promo_codes(
            actor=operator, org=org, data=data, stores=[base_store] if base_store else []
        )
        services.submit_applications(actor=operator, applications=[result.application])
        services.approve_applications(actor=finance, applications=[result.application])
        created += 1
    out.write(f"Promo codes: {created} application(s) added; try DEMO80 at checkout.")


def _applications_base(now):
    day = dt.timedelta(days=1)
    return {
        "subject": "platform",
        "generation": "manual",
        "quantity": 1,
        "discount_type": "percent",
        "discount_rate": D("80"),
        "floor_amount": D("20"),
        "cap_amount": D("55.55"),
        "direct_amount": D("0"),
        "threshold_amount": D("0"),
        "max_uses": 1000,
        "per_user_limit": 0,
        "valid_from": now - day,
        "valid_to": now + 90 * day,
    }
