"""The home page is a dashboard of the user's roles' panels."""

import datetime
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from couponhub.core.models import Job
from reports.models import RedemptionDailyFact
from tests.coupons.factories import CouponRuleFactory
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role
from tests.redemption.factories import RedemptionFactory, RedemptionLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def tree():
    group = OrgFactory()
    region = RegionFactory(parent=group)
    return {
        "group": group,
        "store": StoreFactory(parent=region, name="蓝港店"),
        "other": StoreFactory(parent=region, name="望京店"),
    }


def _panels(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {p["key"]: p for p in response.context["panels"]}, response.content.decode()


def test_a_clerk_sees_today_at_their_store_only(client, tree):
    RedemptionLineFactory(redemption=RedemptionFactory(store=tree["store"]))
    RedemptionLineFactory(redemption=RedemptionFactory(store=tree["store"]))
    line = RedemptionLineFactory(redemption=RedemptionFactory(store=tree["store"]))
    line.returned_at = timezone.now()
    line.save(update_fields=["returned_at"])
    RedemptionLineFactory(redemption=RedemptionFactory(store=tree["other"]))
    yesterday = RedemptionFactory(
        store=tree["store"], created_at=timezone.now() - datetime.timedelta(days=1)
    )
    RedemptionLineFactory(redemption=yesterday)
    panels, page = _panels(client, user_with_role(Role.CLERK, tree["store"]))
    assert set(panels) == {"redemption.counter"}
    stats = {str(s.label): s.value for s in panels["redemption.counter"]["data"].stats}
    assert stats == {"今日核销": 3, "今日核销券数": 3, "今日退券": 1}
    assert reverse("redemption:lookup") in page and "tiles" not in page


def test_each_role_gets_its_own_panels(client, tree):
    expected = {
        Role.STORE_MANAGER: {"redemption.counter", "reports.store_week", "pickup.waiting"},
        Role.OPERATOR: {"core.jobs", "coupons.operator", "pickup.operator"},
        Role.FINANCE: {"coupons.finance", "promocodes.finance"},
        Role.HQ: {"reports.hq"},
        Role.ADMIN: {"core.admin", "api.clients"},
    }
    for role, keys in expected.items():
        org = tree["store"] if role == Role.STORE_MANAGER else tree["group"]
        panels, _page = _panels(client, user_with_role(role, org))
        assert set(panels) == keys, role


def test_hq_kpis_come_from_the_facts_and_draw_svg_charts(client, tree):
    rule = CouponRuleFactory(total=100)
    rule.issued_count = 40
    rule.save(update_fields=["issued_count"])
    day = timezone.localdate() - datetime.timedelta(days=2)
    for store, count in [(tree["store"], 6), (tree["other"], 4)]:
        RedemptionDailyFact.objects.create(
            day=day,
            store_id=store.pk,
            store_name=store.name,
            org_path=store.path,
            rule_id=rule.pk,
            rule_code=rule.code,
            rule_name=rule.name,
            count=count,
            face_value=Decimal("20") * count,
        )
    panels, page = _panels(client, user_with_role(Role.HQ, tree["group"]))
    stats = {str(s.label): s.value for s in panels["reports.hq"]["data"].stats}
    assert stats["已发券数"] == "40" and stats["已核销券数"] == "10" and stats["核销率"] == "25.0%"
    assert "<svg" in page and "<script" not in page.split("</header>")[1].split("<script src")[0]


def test_a_store_manager_sees_their_store_week_not_the_chain(client, tree):
    rule = CouponRuleFactory()
    day = timezone.localdate() - datetime.timedelta(days=1)
    for store, count in [(tree["store"], 5), (tree["other"], 7)]:
        RedemptionDailyFact.objects.create(
            day=day,
            store_id=store.pk,
            store_name=store.name,
            org_path=store.path,
            rule_id=rule.pk,
            rule_code=rule.code,
            rule_name=rule.name,
            count=count,
        )
    panels, _page = _panels(client, user_with_role(Role.STORE_MANAGER, tree["store"]))
    assert panels["reports.store_week"]["data"].stats[0].value == 5


def test_the_admin_sees_lock_outs_and_failed_jobs(client, tree):
    AccessAttempt.objects.create(
        username="clerk_a",
        ip_address="10.0.0.1",
        user_agent="t",
        failures_since_start=5,
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/login/",
    )
    Job.objects.create(kind="x", title="导出", status=Job.Status.FAILED)
    panels, _page = _panels(client, user_with_role(Role.ADMIN, tree["group"]))
    stats = {str(s.label): s for s in panels["core.admin"]["data"].stats}
    assert stats["当前被锁定的用户"].value == 1 and stats["当前被锁定的用户"].warn
    assert stats["近24小时失败的任务"].value == 1


def test_the_operator_counts_rules_nearly_issued_out_of_a_billion(client, tree):
    # nine times a total of a billion is past the integer column: the page was a 500
    CouponRuleFactory(total=1_000_000_000, end_value=999_999_999, issued_count=950_000_000)
    CouponRuleFactory(total=1_000_000_000, end_value=999_999_999, issued_count=10)
    panels, _page = _panels(client, user_with_role(Role.OPERATOR, tree["group"]))
    stats = {str(s.label): s.value for s in panels["coupons.operator"]["data"].stats}
    assert list(stats.values())[2] == 1
