import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from couponhub.core.models import AuditEntry, Job
from promocodes.models import PromoCodeUse
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role
from tests.promocodes.factories import ApplicationFactory, PromoCodeFactory

pytestmark = pytest.mark.django_db


def _export(client, what, capture, query=""):
    with capture(execute=True):
        response = client.post(f"{reverse('promocodes:applications')}?{query}", {"export": what})
    job = Job.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[1])
    assert job.status == Job.Status.SUCCEEDED, job.error
    return list(load_workbook(job.result_file.path, read_only=True).active.values)


def test_applications_and_their_uses_export_within_the_scope(
    client, django_capture_on_commit_callbacks
):
    group = OrgFactory()
    region, other = RegionFactory(parent=group), RegionFactory(parent=group)
    mine = ApplicationFactory(org=region, activity_name="双十一")
    ApplicationFactory(org=other, activity_name="别人的活动")
    code = PromoCodeFactory(application=mine, code="PC11")
    PromoCodeUse.objects.create(
        code=code,
        user_id="u1",
        order_no="O-1",
        store=StoreFactory(parent=region),
        discount=Decimal("8.00"),
        eligible_amount=Decimal("100.00"),
        used_at=timezone.now() - dt.timedelta(hours=1),
    )
    client.force_login(user_with_role(Role.OPERATOR, region))
    rows = _export(client, "applications", django_capture_on_commit_callbacks)
    assert [r[1] for r in rows[1:]] == ["双十一"]
    rows = _export(client, "uses", django_capture_on_commit_callbacks)
    assert len(rows) == 2 and rows[1][0] == "PC11" and rows[1][3] == "O-1"
    assert AuditEntry.objects.filter(action="promocodes.export_list").count() == 2


def test_the_export_needs_the_permission(client):
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    assert client.post(reverse("promocodes:applications"), {"export": "uses"}).status_code == 403
