import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from couponhub.core.models import AuditEntry
from promocodes import services
from promocodes.forms import copy_initial
from promocodes.models import Channel, FinanceLimits, PromoCode, PromoCodeApplication
from tests.factories import OrgFactory, StoreFactory, UserFactory
from tests.products.factories import CategoryFactory
from tests.promocodes.factories import (
    ApplicationFactory,
    BudgetFactory,
    ChannelFactory,
    DepartmentFactory,
    MerchantFactory,
)

pytestmark = pytest.mark.django_db
S = PromoCodeApplication.Status
D = PromoCodeApplication.DisplayStatus


@pytest.fixture
def actor():
    return UserFactory()


@pytest.fixture
def channel():
    channel = ChannelFactory(prefix="DD")
    BudgetFactory(department=channel.department, amount=Decimal("1000"))
    return channel


def data(channel, **overrides):
    now = timezone.now()
    values = {
        "subject": "platform",
        "channel": channel,
        "department": channel.department,
        "activity_name": "五一大促",
        "generation": "manual",
        "quantity": 1,
        "manual_code": "may80",
        "discount_type": "percent",
        "discount_rate": Decimal("80"),
        "floor_amount": Decimal("20"),
        "cap_amount": Decimal("55.55"),
        "max_uses": 10,
        "valid_from": now,
        "valid_to": now + dt.timedelta(days=7),
    }
    values.update(overrides)
    return values


def apply(actor, channel, stores=(), **overrides):
    return services.apply_for_promo_codes(
        actor=actor, org=OrgFactory(), data=data(channel, **overrides), stores=stores
    )


def errors_of(excinfo) -> dict:
    return {k: " ".join(v) for k, v in excinfo.value.message_dict.items()}


def test_a_manual_application_makes_one_upper_case_code(actor, channel):
    result = apply(actor, channel)
    assert result.application.status == S.DRAFT
    assert list(result.application.codes.values_list("code", flat=True)) == ["MAY80"]
    assert AuditEntry.objects.filter(action="promocodes.apply").count() == 1


def test_an_automatic_application_makes_n_prefixed_unique_codes(actor, channel):
    result = apply(actor, channel, generation="auto", quantity=25, manual_code="", max_uses=1)
    codes = list(result.application.codes.values_list("code", flat=True))
    assert len(set(codes)) == 25
    for code in codes:
        assert code.startswith("DD") and len(code) == 8
        assert code[2:].isalnum() and code[2:] == code[2:].upper()


def test_a_taken_manual_code_is_refused(actor, channel):
    apply(actor, channel)
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel)
    assert "已存在" in errors_of(exc)["manual_code"]


def test_only_enabled_channels_take_applications(actor, channel):
    channel.status = Channel.Status.DISABLED
    channel.save()
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel)
    assert "未启用" in errors_of(exc)["channel"]


def test_a_channel_of_another_department_warns_but_does_not_block(actor, channel):
    other = DepartmentFactory()
    BudgetFactory(department=other)
    result = apply(actor, channel, department=other)
    assert result.application.pk
    assert "不一致" in result.warnings[0]


def test_applications_beyond_the_finance_limits_are_refused(actor, channel):
    FinanceLimits.current()
    services.update_finance_limits(
        actor=actor,
        min_discount_rate=Decimal("50"),
        max_direct_amount=Decimal("20"),
        max_threshold_ratio=Decimal("0.2"),
    )
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel, discount_rate=Decimal("40"))
    assert "折扣下限" in errors_of(exc)["discount_rate"]
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel, discount_type="direct", direct_amount=Decimal("21"))
    assert "直减最大金额" in errors_of(exc)["direct_amount"]
    with pytest.raises(ValidationError) as exc:
        apply(
            actor,
            channel,
            discount_type="threshold",
            threshold_amount=Decimal("100"),
            direct_amount=Decimal("30"),
        )
    assert "满减最大优惠比例" in errors_of(exc)["direct_amount"]


def test_a_worst_case_beyond_the_remaining_budget_is_refused(actor, channel):
    # 11.11 a use × 100 uses = 1111 > 1000
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel, max_uses=100)
    assert "超出优惠码额度限制" in errors_of(exc)["max_uses"]
    assert apply(actor, channel, max_uses=90).application.pk  # 999.90 fits


def test_max_uses_0_is_unlimited_even_with_a_department_budget(actor, channel):
    # 最大使用次数 0 = N: the count is unlimited, the budget caps the money at each use
    result = apply(actor, channel, max_uses=0, discount_rate=Decimal("80"), cap_amount=0)
    assert result.application.pk and result.application.max_uses == 0


def test_unlimited_uses_on_a_spent_budget_are_refused(actor, channel):
    budget = channel.department.budgets.get()
    type(budget).objects.filter(pk=budget.pk).update(spent=budget.amount)
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel, max_uses=0)
    assert "预算已用完" in errors_of(exc)["department"]


def test_statuses_read_as_the_manual_names_them():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert [str(label) for _, label in D.choices] == [
            "初始",
            "待审核",
            "审核通过",
            "审核驳回",
            "有效",
            "无效",
        ]


def test_merchant_codes_are_not_held_to_a_department_budget(actor, channel):
    merchant = MerchantFactory()
    result = apply(actor, channel, subject="merchant", merchant=merchant, max_uses=0)
    assert result.application.pk


def test_restrictions_are_checked(actor, channel):
    category = CategoryFactory()
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel, category=category)
    assert "先限制商家" in errors_of(exc)["category"]
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel, subject="merchant")
    assert "merchant" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        apply(actor, channel, stores=[OrgFactory()])
    assert "只能选择门店" in errors_of(exc)["stores"]
    store = StoreFactory()
    result = apply(actor, channel, stores=[store], merchant=MerchantFactory(), category=category)
    assert list(result.application.stores.all()) == [store]


def test_the_whole_workflow_is_audited(actor, channel):
    application = apply(actor, channel).application
    moved, refused = services.submit_applications(actor=actor, applications=[application])
    assert moved == [application] and not refused
    application.refresh_from_db()
    assert application.status == S.PENDING and application.submitted_by == actor
    services.approve_applications(actor=actor, applications=[application])
    application.refresh_from_db()
    assert application.status == S.APPROVED
    assert application.display_status() == D.ACTIVE
    services.invalidate_application(actor=actor, application=application)
    application.refresh_from_db()
    assert application.display_status() == D.INACTIVE
    actions = set(
        AuditEntry.objects.filter(object_id=str(application.pk)).values_list("action", flat=True)
    )
    assert actions == {
        "promocodes.apply",
        "promocodes.submit",
        "promocodes.approve",
        "promocodes.invalidate",
    }


def test_batch_reject_needs_a_reason_and_skips_what_is_not_pending(actor, channel):
    pending = ApplicationFactory(status=S.PENDING, channel=channel)
    draft = ApplicationFactory(status=S.DRAFT, channel=channel)
    with pytest.raises(ValidationError):
        services.reject_applications(actor=actor, applications=[pending], reason=" ")
    moved, refused = services.reject_applications(
        actor=actor, applications=[pending, draft], reason="力度过大"
    )
    assert moved == [pending] and draft.number in refused
    pending.refresh_from_db()
    assert pending.status == S.REJECTED and pending.rejection_reason == "力度过大"


def test_approval_checks_the_budget_again(actor, channel):
    application = ApplicationFactory(status=S.PENDING, channel=channel, max_uses=1000)
    moved, refused = services.approve_applications(actor=actor, applications=[application])
    assert not moved and "超出优惠码额度限制" in refused[application.number]


def test_status_follows_the_validity_window_without_a_job(actor, channel):
    now = timezone.now()
    later = ApplicationFactory(valid_from=now + dt.timedelta(hours=1))
    over = ApplicationFactory(valid_from=now - dt.timedelta(days=2), valid_to=now)
    assert later.display_status() == D.APPROVED
    assert later.display_status(now + dt.timedelta(hours=2)) == D.ACTIVE
    assert over.display_status() == D.INACTIVE
    qs = PromoCodeApplication.objects
    assert list(qs.with_display_status(D.APPROVED)) == [later]
    assert list(qs.with_display_status(D.INACTIVE)) == [over]


def test_channels_go_initial_enabled_disabled_and_back(actor):
    channel = services.create_channel(
        actor=actor, name="美团", prefix="mt", department=DepartmentFactory()
    )
    assert channel.prefix == "MT" and channel.status == Channel.Status.INITIAL
    services.change_channel_status(actor=actor, channel=channel, action="enable")
    services.change_channel_status(actor=actor, channel=channel, action="disable")
    services.change_channel_status(actor=actor, channel=channel, action="enable")
    assert channel.status == Channel.Status.ENABLED
    with pytest.raises(ValidationError):
        services.change_channel_status(actor=actor, channel=channel, action="enable")


def test_a_budget_cannot_drop_below_what_is_spent(actor):
    budget = BudgetFactory(amount=Decimal("100"), spent=Decimal("60"))
    with pytest.raises(ValidationError):
        services.set_department_budget(
            actor=actor,
            department=budget.department,
            period_start=budget.period_start,
            period_end=budget.period_end,
            amount=Decimal("50"),
        )
    services.set_department_budget(
        actor=actor,
        department=budget.department,
        period_start=budget.period_start,
        period_end=budget.period_end,
        amount=Decimal("200"),
    )
    budget.refresh_from_db()
    assert budget.remaining == Decimal("140")


def test_copy_keeps_the_rules_but_not_the_code(channel):
    source = ApplicationFactory(channel=channel)
    source.stores.set([StoreFactory()])
    initial = copy_initial(source)
    assert initial["discount_rate"] == source.discount_rate
    assert initial["stores"] == list(source.stores.values_list("pk", flat=True))
    assert "manual_code" not in initial
    assert PromoCode.objects.count() == 0
