import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from couponhub.core.models import Job, RoleAssignment
from promocodes.models import Channel, DepartmentBudget, FinanceLimits, PromoCodeApplication
from tests.factories import OrgFactory, RegionFactory, user_with_role
from tests.promocodes.factories import (
    ApplicationFactory,
    BudgetFactory,
    ChannelFactory,
    DepartmentFactory,
    PromoCodeFactory,
)

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
S = PromoCodeApplication.Status


@pytest.fixture
def group():
    return OrgFactory()


@pytest.fixture
def operator(client, group):
    return user_with_role(Role.OPERATOR, group)


@pytest.fixture
def finance(group):
    return user_with_role(Role.FINANCE, group)


@pytest.fixture
def clerk(group):
    return user_with_role(Role.CLERK, group)


def login(client, user):
    client.force_login(user)
    return client


def outside_application():
    """An application of another region: out of scope for a region-level operator."""
    return ApplicationFactory(org=RegionFactory(), status=S.DRAFT)


def test_channel_page_lists_creates_and_enables(client, operator):
    department = DepartmentFactory()
    login(client, operator)
    response = client.post(
        "/promocodes/channels/", {"name": "美团", "prefix": "mt", "department": department.pk}
    )
    assert response.status_code == 302
    channel = Channel.objects.get(name="美团")
    assert channel.status == Channel.Status.INITIAL
    client.post(f"/promocodes/channels/{channel.pk}/enable/")
    channel.refresh_from_db()
    assert channel.status == Channel.Status.ENABLED
    assert "美团" in client.get("/promocodes/channels/").content.decode()


def test_channel_pages_refuse_without_permission(client, clerk, finance):
    channel = ChannelFactory(status=Channel.Status.INITIAL)
    assert login(client, clerk).get("/promocodes/channels/").status_code == 403
    login(client, finance)
    assert client.post(f"/promocodes/channels/{channel.pk}/enable/").status_code == 403
    assert client.post("/promocodes/channels/", {"name": "x"}).status_code == 403


def test_channel_status_of_an_unknown_channel_is_404(client, operator):
    assert login(client, operator).post("/promocodes/channels/999/enable/").status_code == 404


def test_application_form_creates_an_application_with_a_warning(client, group):
    operator = user_with_role(Role.OPERATOR, group)
    channel = ChannelFactory()
    other = DepartmentFactory()
    BudgetFactory(department=other)
    login(client, operator)
    now = timezone.localtime()
    response = client.post(
        "/promocodes/new/",
        {
            "subject": "platform",
            "channel": channel.pk,
            "department": other.pk,
            "activity_name": "周年庆",
            "generation": "auto",
            "quantity": 3,
            "discount_type": "direct",
            "direct_amount": "10",
            "floor_amount": "50",
            "max_uses": 5,
            "per_user_limit": 1,
            "user_level": "any",
            "platform": "any",
            "delivery": "any",
            "sale_type": "any",
            "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
            "valid_to": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )
    application = PromoCodeApplication.objects.get()
    assert application.codes.count() == 3
    assert application.org == group
    page = response.content.decode()
    assert "不一致" in page
    assert application.number in page


def test_application_form_shows_the_refusal_next_to_the_field(client, operator):
    channel = ChannelFactory()
    BudgetFactory(department=channel.department, amount=Decimal("10"))
    login(client, operator)
    now = timezone.localtime()
    response = client.post(
        "/promocodes/new/",
        {
            "subject": "platform",
            "channel": channel.pk,
            "department": channel.department.pk,
            "activity_name": "x",
            "generation": "manual",
            "manual_code": "bigone",
            "discount_type": "direct",
            "direct_amount": "10",
            "max_uses": 5,
            "per_user_limit": 0,
            "user_level": "any",
            "platform": "any",
            "delivery": "any",
            "sale_type": "any",
            "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
            "valid_to": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "超出优惠码额度限制" in page, re.findall(r"(?:field-error|msg-error)\">[^<]*", page)
    assert not PromoCodeApplication.objects.exists()


def test_copy_prefills_the_form(client, operator, group):
    source = ApplicationFactory(org=group, activity_name="复制我")
    response = login(client, operator).get(f"/promocodes/new/?copy={source.pk}")
    assert response.status_code == 200
    assert "复制我" in response.content.decode()


def test_application_pages_refuse_without_permission(client, clerk, finance):
    application = ApplicationFactory()
    login(client, clerk)
    for url in ["/promocodes/", "/promocodes/new/", f"/promocodes/{application.pk}/"]:
        assert client.get(url).status_code == 403
    login(client, finance)
    assert client.get("/promocodes/new/").status_code == 403
    assert client.post(f"/promocodes/{application.pk}/submit/").status_code == 403


def test_application_pages_are_404_outside_the_scope(client):
    region = RegionFactory()
    operator = user_with_role(Role.OPERATOR, region)
    finance = user_with_role(Role.FINANCE, region)
    application = outside_application()
    login(client, operator)
    assert client.get(f"/promocodes/{application.pk}/").status_code == 404
    assert client.get(f"/promocodes/{application.pk}/print/").status_code == 404
    assert client.post(f"/promocodes/{application.pk}/submit/").status_code == 404
    assert client.get(f"/promocodes/new/?copy={application.pk}").status_code == 404
    assert application.activity_name not in client.get("/promocodes/").content.decode()
    login(client, finance)
    application.status = S.PENDING
    application.save()
    client.post(
        "/promocodes/review/decide/", {"selection": [application.pk], "decision": "approve"}
    )
    application.refresh_from_db()
    assert application.status == S.PENDING


def test_list_tabs_filter_by_status(client, operator, group):
    ApplicationFactory(org=group, status=S.DRAFT, activity_name="草稿甲")
    ApplicationFactory(org=group, activity_name="有效乙")
    login(client, operator)
    draft_page = client.get("/promocodes/?status=draft").content.decode()
    assert "草稿甲" in draft_page and "有效乙" not in draft_page
    active_page = client.get("/promocodes/?status=active").content.decode()
    assert "有效乙" in active_page and "草稿甲" not in active_page


def test_the_search_finds_an_application_by_a_code_or_its_activity_once(client, operator, group):
    many = ApplicationFactory(org=group, activity_name="双十一大促")
    PromoCodeFactory(application=many, code="SALE0001")
    PromoCodeFactory(application=many, code="SALE0002")
    other = ApplicationFactory(org=group, activity_name="会员日")
    PromoCodeFactory(application=other, code="VIP0001")
    login(client, operator)

    def listed(q):
        response = client.get("/promocodes/", {"q": q})
        return [row.record.pk for row in response.context["table"].page.object_list]

    assert listed(" sale0002 ") == [many.pk]
    assert listed("会员") == [other.pk]
    assert listed("NOPE") == []


def test_batch_submit_then_batch_approve_and_reject(client, operator, finance, group):
    channel = ChannelFactory()
    BudgetFactory(department=channel.department)
    a, b = (
        ApplicationFactory(org=group, channel=channel, status=S.DRAFT, max_uses=10)
        for _ in range(2)
    )
    login(client, operator)
    client.post("/promocodes/submit/", {"selection": [a.pk, b.pk]})
    assert set(PromoCodeApplication.objects.values_list("status", flat=True)) == {S.PENDING}
    login(client, finance)
    assert a.activity_name in client.get("/promocodes/review/").content.decode()
    client.post("/promocodes/review/decide/", {"selection": [a.pk], "decision": "approve"})
    response = client.post(
        "/promocodes/review/decide/",
        {"selection": [b.pk], "decision": "reject", "reason": "力度过大"},
        follow=True,
    )
    assert response.status_code == 200
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == S.APPROVED and a.reviewed_by == finance
    assert b.status == S.REJECTED and b.rejection_reason == "力度过大"


def test_review_refuses_an_operator(client, operator):
    login(client, operator)
    assert client.get("/promocodes/review/").status_code == 403
    assert client.post("/promocodes/review/decide/", {"decision": "approve"}).status_code == 403


def test_invalidate_export_and_print(client, operator, group, django_capture_on_commit_callbacks):
    application = ApplicationFactory(org=group)
    PromoCodeFactory(application=application, code="PRINTME")
    login(client, operator)
    page = client.get(f"/promocodes/{application.pk}/print/").content.decode()
    assert "PRINTME" in page and "8折" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/promocodes/{application.pk}/export/")
    job = Job.objects.get()
    assert response.status_code == 302
    assert job.status == Job.Status.SUCCEEDED and job.result_file.name.endswith(".xlsx")
    from openpyxl import load_workbook

    rows = list(load_workbook(job.result_file.path).active.values)
    assert rows[1][0] == "PRINTME"
    client.post(f"/promocodes/{application.pk}/invalidate/")
    application.refresh_from_db()
    assert application.status == S.INVALIDATED


def test_budget_page_shows_budget_spent_remaining(client, finance):
    BudgetFactory(amount=Decimal("500"), spent=Decimal("120.50"))
    page = login(client, finance).get("/promocodes/budgets/").content.decode()
    assert "379.50" in page


def test_finance_sets_budgets_and_departments(client, finance):
    login(client, finance)
    client.post("/promocodes/budgets/", {"add_department": "1", "name": "市场部", "code": "mkt"})
    department = DepartmentFactory._meta.model.objects.get(code="MKT")
    today = timezone.localdate()
    client.post(
        "/promocodes/budgets/",
        {
            "set_budget": "1",
            "department": department.pk,
            "period_start": today.replace(day=1).isoformat(),
            "period_end": today.replace(day=28).isoformat(),
            "amount": "8000",
        },
    )
    assert DepartmentBudget.objects.get(department=department).amount == Decimal("8000")


def test_budget_edits_refuse_an_operator(client, operator):
    login(client, operator)
    assert client.get("/promocodes/budgets/").status_code == 200
    assert client.post("/promocodes/budgets/", {"add_department": "1"}).status_code == 403


def test_finance_limits_page_is_finance_only(client, finance, operator):
    login(client, operator)
    assert client.get("/promocodes/limits/").status_code == 403
    login(client, finance)
    assert client.get("/promocodes/limits/").status_code == 200
    client.post(
        "/promocodes/limits/",
        {"min_discount_rate": "60", "max_direct_amount": "30", "max_threshold_ratio": "0.25"},
    )
    assert FinanceLimits.current().min_discount_rate == Decimal("60")


def _form_data(application, **changes):
    from promocodes.forms import ApplicationForm

    data = {}
    for name, value in ApplicationForm(instance=application).initial.items():
        if name not in ApplicationForm.Meta.fields or value is None:
            continue
        if isinstance(value, dt.datetime):
            value = timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
        data[name] = [s.pk for s in value] if name == "stores" else value
    return {**data, **changes}


def test_a_draft_is_changed_in_its_form_and_its_codes_made_again(client, operator, group):
    from couponhub.core.models import AuditEntry

    application = ApplicationFactory(org=group, status=S.DRAFT, activity_name="初稿")
    PromoCodeFactory(application=application, code="OLDCODE1")
    BudgetFactory(department=application.department, amount=Decimal("100000"))
    login(client, operator)
    page = client.get(f"/promocodes/{application.pk}/").content.decode()
    assert f"/promocodes/{application.pk}/change/" in page
    form = client.get(f"/promocodes/{application.pk}/change/").content.decode()
    assert "初稿" in form
    response = client.post(
        f"/promocodes/{application.pk}/change/",
        _form_data(
            application,
            activity_name="改稿",
            generation="manual",
            manual_code="newone",
            max_uses=5,
        ),
        follow=True,
    )
    application.refresh_from_db()
    page = response.content.decode()
    assert application.activity_name == "改稿", re.findall(r"field-error[^<]*", page)
    assert application.status == S.DRAFT
    assert list(application.codes.values_list("code", flat=True)) == ["NEWONE"]
    entry = AuditEntry.objects.get(action="promocodes.change")
    assert entry.before["activity_name"] == "初稿" and entry.after["activity_name"] == "改稿"
    assert application.number in response.content.decode()


def test_a_change_is_refused_like_a_new_application(client, operator, group):
    application = ApplicationFactory(org=group, status=S.DRAFT, activity_name="初稿")
    PromoCodeFactory(code="TAKEN1")
    BudgetFactory(department=application.department, amount=Decimal("100000"))
    login(client, operator)
    response = client.post(
        f"/promocodes/{application.pk}/change/",
        _form_data(application, generation="manual", manual_code="taken1", max_uses=5),
    )
    assert "优惠码TAKEN1已存在" in response.content.decode()
    application.refresh_from_db()
    assert application.generation != "manual" or application.manual_code != "TAKEN1"


def test_only_a_draft_can_be_changed_and_only_by_whom_may_apply(client, operator, clerk, group):
    pending = ApplicationFactory(org=group, status=S.PENDING, activity_name="待审")
    login(client, operator)
    response = client.post(
        f"/promocodes/{pending.pk}/change/", _form_data(pending, activity_name="偷改"), follow=True
    )
    assert "初始状态" in response.content.decode()
    pending.refresh_from_db()
    assert pending.activity_name == "待审"
    draft = ApplicationFactory(org=group, status=S.DRAFT)
    assert login(client, clerk).get(f"/promocodes/{draft.pk}/change/").status_code == 403
    outside = outside_application()
    region_operator = user_with_role(Role.OPERATOR, RegionFactory())
    assert (
        login(client, region_operator).get(f"/promocodes/{outside.pk}/change/").status_code == 404
    )


def _application_post(channel, now, **changes):
    data = {
        "subject": "platform",
        "channel": channel.pk,
        "department": channel.department.pk,
        "activity_name": "周年庆",
        "generation": "auto",
        "quantity": 3,
        "discount_type": "direct",
        "direct_amount": "10",
        "floor_amount": "50",
        "max_uses": 5,
        "per_user_limit": 1,
        "user_level": "any",
        "platform": "any",
        "delivery": "any",
        "sale_type": "any",
        "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
        "valid_to": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(changes)
    return data


def test_an_end_before_the_start_is_refused_naming_the_field(client, operator):
    channel = ChannelFactory()
    BudgetFactory(department=channel.department)
    now = timezone.localtime()
    earlier = (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = login(client, operator).post(
        "/promocodes/new/", _application_post(channel, now, valid_to=earlier)
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "有效结束时间：必须晚于有效开始时间。" in page
    assert "promo_app_valid_window" not in page


def test_a_category_without_a_merchant_is_refused_naming_the_field(client, operator):
    from tests.products.factories import CategoryFactory

    channel = ChannelFactory()
    BudgetFactory(department=channel.department)
    response = login(client, operator).post(
        "/promocodes/new/",
        _application_post(channel, timezone.localtime(), category=CategoryFactory().pk),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "使用品类限制：请先选择使用商家限制，才可限制品类。" in page
    assert "promo_app_category_needs_merchant" not in page


def test_finance_limits_out_of_range_are_refused_naming_the_fields(client, finance):
    response = login(client, finance).post(
        "/promocodes/limits/",
        {"min_discount_rate": "0", "max_direct_amount": "30", "max_threshold_ratio": "2"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "折扣下限（%）：必须大于0且不超过100。" in page
    assert "满减最大优惠比例：必须在0到1之间。" in page
    assert "promo_finance_limits" not in page
