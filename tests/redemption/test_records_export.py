import pytest
from django.urls import reverse
from openpyxl import load_workbook

from couponhub.core.models import Job
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role
from tests.members.factories import MemberFactory
from tests.redemption.factories import RedemptionFactory, RedemptionLineFactory

pytestmark = pytest.mark.django_db


def test_the_records_export_holds_the_users_stores_lines(
    client, django_capture_on_commit_callbacks
):
    region = RegionFactory(parent=OrgFactory())
    store, other = StoreFactory(parent=region, name="蓝港店"), StoreFactory(parent=region)
    member = MemberFactory(phone="17700000516")
    mine = RedemptionLineFactory(
        redemption=RedemptionFactory(store=store, member=member, redemption_no="HX-MINE")
    )
    RedemptionLineFactory(redemption=RedemptionFactory(store=other, redemption_no="HX-THEIRS"))
    client.force_login(user_with_role(Role.CLERK, store))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("redemption:records"))
    job = Job.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[1])
    assert job.status == Job.Status.SUCCEEDED, job.error
    rows = list(load_workbook(job.result_file.path, read_only=True).active.values)
    assert len(rows) == 2
    assert rows[1][0] == "HX-MINE" and rows[1][2] == "蓝港店" and rows[1][3] == mine.coupon.code
    assert rows[1][6] == "177****0516" and rows[1][11] == "已核销"
    client.force_login(user_with_role(Role.FINANCE, OrgFactory()))
    assert client.post(reverse("redemption:records")).status_code == 403
