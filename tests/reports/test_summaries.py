import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from couponhub.core.models import Job, RoleAssignment, SmsAccount, SmsMessage
from promocodes.models import DepartmentBudget, PromoCodeUse
from reports import facts
from tests.factories import user_with_role
from tests.promocodes import factories as promo_factories
from tests.reports.factories import World, exchanged, redeem

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
DAY = datetime.timedelta(days=1)


def url(name):
    return reverse("reports:summary", args=[name])


@pytest.fixture
def world():
    w = World()
    yesterday = timezone.now() - DAY
    for _ in range(3):
        redeem(exchanged(w.member, w.campaign), w.store, yesterday)
    redeem(exchanged(w.member2, w.campaign7), w.store3, yesterday)
    facts.build_facts()
    return w


def test_redemption_summary_with_chart_for_hq(client, world):
    client.force_login(user_with_role(Role.HQ, world.group))

    response = client.get(url("redemptions"))

    assert response.status_code == 200
    assert response.context["totals"]["count"] == 4
    html = response.content.decode()
    assert "<svg" in html and "380-蓝港店" in html and "283-零号店" in html
    assert "核销汇总" in html


def test_redemption_summary_is_scoped_for_a_store_manager(client, world):
    client.force_login(user_with_role(Role.STORE_MANAGER, world.store))

    response = client.get(url("redemptions"))

    assert response.status_code == 200
    assert response.context["totals"]["count"] == 3
    assert {r.store_id for r in response.context["rows"]} == {world.store.pk}
    # cost summaries are not for store managers
    assert client.get(url("promocodes")).status_code == 403
    assert client.get(url("sms")).status_code == 403


def test_summaries_refuse_users_without_report_permissions(client, world):
    client.force_login(user_with_role(Role.CLERK, world.store))
    for name in ("redemptions", "promocodes", "sms"):
        assert client.get(url(name)).status_code == 403


def test_unknown_summary_is_404(client, world):
    client.force_login(user_with_role(Role.HQ, world.group))
    assert client.get(url("nope")).status_code == 404


def test_promo_code_cost_against_budget(client, world):
    yesterday = timezone.now() - DAY
    code = promo_factories.PromoCodeFactory()
    use = PromoCodeUse.objects.create(
        code=code,
        user_id="u1",
        order_no="O1",
        discount=Decimal("30.00"),
        eligible_amount=Decimal("100.00"),
        used_at=yesterday,
    )
    PromoCodeUse.objects.create(
        code=code,
        user_id="u1",
        order_no="O2",
        discount=Decimal("5.00"),
        eligible_amount=Decimal("100.00"),
        used_at=timezone.now(),
    )  # today: not counted
    department = use.code.application.department
    DepartmentBudget.objects.create(
        department=department,
        period_start=timezone.localdate() - 40 * DAY,
        period_end=timezone.localdate() + 40 * DAY,
        amount=Decimal("100.00"),
    )
    client.force_login(user_with_role(Role.FINANCE, world.group))

    response = client.get(url("promocodes"), {"by": "department"})

    assert response.status_code == 200
    row = next(r for r in response.context["rows"] if r["name"] == department.name)
    assert (row["uses"], row["cost"], row["budget"], row["used_pct"]) == (
        1,
        Decimal("30.00"),
        Decimal("100.00"),
        Decimal("30.0"),
    )
    assert client.get(url("promocodes"), {"by": "channel"}).status_code == 200
    assert client.get(url("promocodes"), {"by": "merchant"}).status_code == 200


def test_sms_spend_by_month(client, world):
    account = SmsAccount.objects.create(name="main", balance=Decimal("10"))
    last_week = timezone.now() - 7 * DAY
    for status, cost in (("sent", "0.05"), ("sent", "0.05"), ("refused", "0")):
        SmsMessage.objects.create(
            account=account,
            phone="13900000000",
            text="t",
            purpose="test",
            status=status,
            cost=Decimal(cost),
            created_at=last_week,
        )
    client.force_login(user_with_role(Role.FINANCE, world.group))

    response = client.get(url("sms"))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert sum(r["messages"] for r in rows) == 3 and sum(r["refused"] for r in rows) == 1
    assert sum(r["spend"] for r in rows) == Decimal("0.10")


def test_redemption_summary_export(client, world, django_capture_on_commit_callbacks):
    hq = user_with_role(Role.HQ, world.group)
    client.force_login(hq)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:export", args=["redemptions"]))

    job = Job.objects.get(owner=hq)
    assert job.status == Job.Status.SUCCEEDED
    rows = list(load_workbook(job.result_file.open("rb")).active.iter_rows(values_only=True))
    assert rows[0][0] == "日期" and sum(r[4] for r in rows[1:]) == 4


def test_pickup_codes_by_card_type_and_batch(client, world, django_capture_on_commit_callbacks):
    from tests.pickup.factories import CodeBatchFactory, PickupCodeFactory

    yesterday = timezone.now() - DAY
    batch = CodeBatchFactory(created_at=yesterday - DAY)
    PickupCodeFactory(batch=batch)
    PickupCodeFactory(
        batch=batch, status="used", used_at=yesterday, picked_up=True, picked_up_at=yesterday
    )
    PickupCodeFactory(
        batch=batch,
        status="used",
        used_at=yesterday,
        shipped=True,
        shipped_at=yesterday,
        red_packet_amount=Decimal("8.80"),
    )
    PickupCodeFactory(batch=CodeBatchFactory(created_at=timezone.now()))  # today: not counted
    hq = user_with_role(Role.HQ, world.group)
    client.force_login(hq)

    response = client.get(url("pickup"))

    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert (row["generated"], row["used"], row["picked_up"], row["shipped"]) == (3, 2, 1, 1)
    assert (row["red_packets"], row["red_packet_amount"]) == (1, Decimal("8.80"))
    assert "<svg" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:export", args=["pickup"]))
    job = Job.objects.get(owner=hq)
    rows = list(load_workbook(job.result_file.open("rb")).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == 3  # header + one batch


def test_pickup_summary_is_not_for_store_managers(client, world):
    client.force_login(user_with_role(Role.STORE_MANAGER, world.store))
    assert client.get(url("pickup")).status_code == 403


def test_outside_coupons_sold_and_redeemed(client, world):
    from tests.redemption.factories import OutsideCouponFactory, OutsideProductMappingFactory

    yesterday = timezone.now() - DAY
    mapping = OutsideProductMappingFactory(shop__org=world.group, activity__org=world.group)
    OutsideCouponFactory(mapping=mapping, sold_at=yesterday)
    OutsideCouponFactory(
        mapping=mapping,
        sold_at=yesterday,
        status="used",
        used_at=yesterday,
        used_store=world.store,
    )
    OutsideCouponFactory(mapping=mapping, sold_at=timezone.now())  # today: not counted
    client.force_login(user_with_role(Role.HQ, world.group))

    response = client.get(url("outside"))

    assert response.status_code == 200
    assert response.context["totals"] == {"sold": 2, "redeemed": 1}
    assert "<svg" in response.content.decode()
    # a store manager sees what was redeemed at the store only
    client.force_login(user_with_role(Role.STORE_MANAGER, world.store2))
    assert client.get(url("outside")).context["totals"] == {"sold": 0, "redeemed": 0}
    client.force_login(user_with_role(Role.STORE_MANAGER, world.store))
    assert client.get(url("outside")).context["totals"] == {"sold": 1, "redeemed": 1}
