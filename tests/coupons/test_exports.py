"""Coupon list exports: the list page's filters (rule, campaign, serial range) and the user's
scope, as an .xlsx in the download centre."""

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from couponhub.core.models import AuditEntry, Job
from coupons.models import Coupon, CouponRule
from tests.coupons.factories import CampaignFactory, CouponFactory, CouponRuleFactory
from tests.factories import OrgFactory, RegionFactory, Role, user_with_role
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _export(client, query, capture):
    with capture(execute=True):
        response = client.post(f"{reverse('coupons:coupon_list')}?{query}")
    assert response.status_code == 302
    job = Job.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[1])
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job, list(load_workbook(job.result_file.path, read_only=True).active.values)


def test_a_rules_coupons_and_a_physical_range_with_status(
    client, django_capture_on_commit_callbacks
):
    group = OrgFactory()
    operator = user_with_role(Role.OPERATOR, group)
    physical = CouponRuleFactory(
        creating_org=group, medium=CouponRule.Medium.PHYSICAL, code="YHQ-SW-1"
    )
    for n in range(10):
        CouponFactory(
            rule=physical,
            number=n,
            member=None,
            status=Coupon.Status.USED if n == 3 else Coupon.Status.UNUSED,
            used_at=None if n != 3 else physical.created_at,
        )
    member = MemberFactory(phone="17700000516")
    CouponFactory(rule=CouponRuleFactory(creating_org=group), member=member)
    client.force_login(operator)
    job, rows = _export(
        client, "rule__code=YHQ-SW-1&number_from=2&number_to=5", django_capture_on_commit_callbacks
    )
    assert rows[0][0] == "券码"
    assert [r[0] for r in rows[1:]] == [physical.format_code(n) for n in range(2, 6)]
    assert [r[3] for r in rows[1:]] == ["未使用", "已使用", "未使用", "未使用"]
    assert AuditEntry.objects.filter(action="coupons.export", actor=operator).exists()
    client.get(reverse("core:job_download", args=[job.pk]))


def test_a_campaigns_coupons_with_masked_phones(client, django_capture_on_commit_callbacks):
    group = OrgFactory()
    campaign = CampaignFactory(code="FQ-1", rule__creating_org=group)
    CouponFactory(rule=campaign.rule, campaign=campaign, member=MemberFactory(phone="17700000516"))
    CouponFactory(rule=campaign.rule)
    client.force_login(user_with_role(Role.OPERATOR, group))
    _job, rows = _export(client, "campaign__code=FQ-1", django_capture_on_commit_callbacks)
    assert len(rows) == 2 and rows[1][7] == "177****0516"


def test_the_export_keeps_to_the_scope_and_needs_the_permission(
    client, django_capture_on_commit_callbacks
):
    group = OrgFactory()
    region, other = RegionFactory(parent=group), RegionFactory(parent=group)
    CouponFactory(rule=CouponRuleFactory(creating_org=region), code="MINE1")
    CouponFactory(rule=CouponRuleFactory(creating_org=other), code="THEIRS1")
    client.force_login(user_with_role(Role.OPERATOR, region))
    _job, rows = _export(client, "", django_capture_on_commit_callbacks)
    assert [r[0] for r in rows[1:]] == ["MINE1"]
    client.force_login(user_with_role(Role.CLERK, OrgFactory()))
    assert client.post(reverse("coupons:coupon_list")).status_code == 403
