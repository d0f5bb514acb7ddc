"""票券档案 (seed 003, issue 16): every outside coupon with its status, shop, mapping, redeeming
store and time; filters; export as a background job."""

import openpyxl
import pytest

from couponhub.core.jobs import run_job
from couponhub.core.models import Job, RoleAssignment
from redemption import outside
from tests.factories import OrgFactory, StoreFactory, user_with_role
from tests.redemption.factories import OutsideCouponFactory, OutsideProductMappingFactory

pytestmark = pytest.mark.django_db
URL = "/redemption/outside/archive/"


@pytest.fixture
def group():
    return OrgFactory()


@pytest.fixture
def operator(client, group):
    user = user_with_role(RoleAssignment.Role.OPERATOR, group)
    client.force_login(user)
    return user


@pytest.fixture
def coupons(group):
    store = StoreFactory(parent=group, name="蓝港店", code="380")
    mapping = OutsideProductMappingFactory(
        shop__org=group, activity__org=group, activity__stores=[store]
    )
    used = OutsideCouponFactory(mapping=mapping, code="J880001")
    outside.redeem_outside_coupon(
        code=used.code, store=store, items=None, order_no="19241:194501", operator="x"
    )
    fresh = OutsideCouponFactory(mapping=mapping, code="J880002", phone="18100001234")
    foreign = OutsideCouponFactory(code="J990001")  # another org's shop
    return used, fresh, foreign


def test_the_archive_lists_every_coupon_of_the_users_shops(client, operator, coupons):
    used, fresh, foreign = coupons
    page = client.get(URL).content.decode()
    for heading in ("消费号", "外部票券店铺", "外部商品", "本地票券", "核销门店", "核销时间"):
        assert heading in page
    assert used.code in page and fresh.code in page and foreign.code not in page
    assert "380-蓝港店" in page and "19241:194501" in page and "【60代100元票券抢购】" in page


def test_the_archive_filters(client, operator, coupons):
    used, fresh, _ = coupons
    only_used = client.get(URL, {"status": "used"}).content.decode()
    assert used.code in only_used and fresh.code not in only_used
    by_number = client.get(URL, {"code": "880002"}).content.decode()  # the J left off
    assert fresh.code in by_number and used.code not in by_number
    by_phone = client.get(URL, {"phone": "1234"}).content.decode()
    assert fresh.code in by_phone and used.code not in by_phone
    by_store = client.get(URL, {"store": "380"}).content.decode()
    assert used.code in by_store and fresh.code not in by_store


def test_the_archive_exports_what_it_shows(client, operator, coupons):
    used = coupons[0]
    response = client.post(f"{URL}?status=used")
    job = Job.objects.get()
    assert response.status_code == 302 and f"/{job.pk}/" in response["Location"]
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    with job.result_file.open("rb") as fh:
        rows = list(openpyxl.load_workbook(fh, read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("消费号", "状态", "外部店铺")
    assert [r[0] for r in rows[1:]] == [used.code]
    assert rows[1][7] == "380-蓝港店" and rows[1][9] == "19241:194501"


def test_the_archive_needs_the_permission(client, group):
    client.force_login(user_with_role(RoleAssignment.Role.CLERK, StoreFactory(parent=group)))
    assert client.get(URL).status_code == 403
