import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from couponhub.core.models import Job, RoleAssignment
from reports import facts
from reports.models import UValueCouponFact
from tests.factories import user_with_role
from tests.reports.factories import World, exchanged, redeem

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
URL = reverse("reports:u_value_detail")
DAY = datetime.timedelta(days=1)


@pytest.fixture
def world():
    w = World()
    yesterday = timezone.now() - DAY
    w.at_store = exchanged(w.member, w.campaign)  # member registered at store 380
    w.used_at_283 = redeem(exchanged(w.member, w.campaign7), w.store3, yesterday)
    w.other = exchanged(w.member2, w.campaign)  # member registered at 283
    w.old = exchanged(w.member2, w.campaign, obtained_at=timezone.now() - 10 * DAY)
    facts.build_facts()
    return w


def _codes(response):
    return {row.record.coupon_code for row in response.context["table"].page.object_list}


def test_hq_sees_every_row_with_full_phones_and_the_notice(client, world):
    client.force_login(user_with_role(Role.HQ, world.group))

    response = client.get(URL)

    assert response.status_code == 200
    assert _codes(response) == {
        c.code for c in (world.at_store, world.used_at_283, world.other, world.old)
    }
    html = response.content.decode()
    assert "本功能数据源截止到昨日" in html and "今日数据暂不参与分析" in html
    assert "17700000516" in html
    assert "积分商城-煎药券-1付药" in html and "U享值" in html


def test_store_manager_sees_only_their_store_and_masked_phones(client, world):
    client.force_login(user_with_role(Role.STORE_MANAGER, world.store))

    response = client.get(URL)

    assert response.status_code == 200
    assert _codes(response) == {world.at_store.code}
    html = response.content.decode()
    assert "177****0516" in html and "17700000516" not in html
    # the org selector offers only the manager's own store
    assert list(response.context["filter"].form.fields["org"].queryset) == [world.store]


def test_manager_of_the_redeeming_store_sees_the_redeemed_coupon(client, world):
    client.force_login(user_with_role(Role.STORE_MANAGER, world.store3))

    codes = _codes(client.get(URL))

    assert codes == {world.used_at_283.code, world.other.code, world.old.code}


def test_an_org_outside_the_scope_is_refused(client, world):
    client.force_login(user_with_role(Role.STORE_MANAGER, world.store))

    response = client.get(URL, {"org": world.store3.pk})

    assert response.status_code == 200
    assert _codes(response) == set()
    assert "org" in response.context["filter"].form.errors


def test_clerk_and_operator_get_403(client, world):
    for role, org in ((Role.CLERK, world.store), (Role.OPERATOR, world.group)):
        client.force_login(user_with_role(role, org))
        assert client.get(URL).status_code == 403


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"org": "region"}, {"at_store"}),
        ({"org": "store3"}, {"used_at_283", "other", "old"}),
        ({"status": "used"}, {"used_at_283"}),
        ({"code": "CODE:other"}, {"other"}),
        ({"name": "7付药"}, {"used_at_283"}),
        ({"member": "17700000516"}, {"at_store", "used_at_283"}),
        ({"member": "CARD:member2"}, {"other", "old"}),
        ({"obtained_from": "D:-2"}, {"at_store", "used_at_283", "other"}),
        ({"obtained_to": "D:-2"}, {"old"}),
        ({"used_from": "D:-1", "used_to": "D:-1"}, {"used_at_283"}),
    ],
)
def test_filters(client, world, params, expected):
    client.force_login(user_with_role(Role.HQ, world.group))
    today = timezone.localdate()
    resolved = {}
    for key, value in params.items():
        if value in ("region", "store3"):
            value = {"region": world.region, "store3": world.store3}[value].pk
        elif value.startswith("CODE:"):
            value = getattr(world, value[5:]).code
        elif value.startswith("CARD:"):
            value = getattr(world, value[5:]).card_no
        elif value.startswith("D:"):
            value = (today + int(value[2:]) * DAY).isoformat()
        resolved[key] = value

    response = client.get(URL, resolved)

    assert _codes(response) == {getattr(world, name).code for name in expected}


def test_export_writes_the_filtered_rows_into_the_download_centre(
    client, world, django_capture_on_commit_callbacks
):
    hq = user_with_role(Role.HQ, world.group)
    client.force_login(hq)
    UValueCouponFact.objects.filter(coupon_id=world.other.pk).update(campaign_name="=HYPERLINK(1)")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:export", args=["u_value"]) + f"?org={world.store3.pk}"
        )

    job = Job.objects.get(owner=hq)
    assert response.status_code == 302 and response.url == reverse("core:job_detail", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED and job.total == 3
    sheet = load_workbook(job.result_file.open("rb"), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("发放日期", "活动名称", "活动编码", "规则编码", "优惠券名称")
    assert {r[rows[0].index("券码")] for r in rows[1:]} == {
        world.used_at_283.code,
        world.other.code,
        world.old.code,
    }
    assert "'=HYPERLINK(1)" in {r[1] for r in rows[1:]}  # formula neutralised


def test_export_needs_the_export_permission(client, world):
    client.force_login(user_with_role(Role.STORE_MANAGER, world.store))

    response = client.post(reverse("reports:export", args=["u_value"]))

    assert response.status_code == 403 and not Job.objects.exists()


def test_manager_export_masks_phones_and_keeps_scope(world):
    from reports import exports

    manager = user_with_role(Role.STORE_MANAGER, world.store)
    spec = exports.REPORTS["u_value"](manager, {})
    rows = list(spec.rows)
    assert spec.total == 1 and len(rows) == 1
    assert "177****0516" in rows[0] and "U享值对应价值（元）" not in spec.headers


def test_unknown_report_is_404(client, world):
    client.force_login(user_with_role(Role.HQ, world.group))
    assert client.post(reverse("reports:export", args=["nope"])).status_code == 404


def test_a_count_above_the_exact_count_is_shown_as_an_estimate(client, world, monkeypatch):
    from couponhub.core import pagination

    client.force_login(user_with_role(Role.HQ, world.group))
    assert "共 4 条" in client.get(URL).content.decode()
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 2)
    response = client.get(URL)
    html = response.content.decode()
    assert "约 " in html and "共 4 条" not in html
    # 下一页 walks on by keyset from the last fact shown
    page = response.context["table"].page
    rest = client.get(URL, {"page": 2, "after": page.last_key}).context["table"].page
    shown = [r.record.pk for r in page.object_list] + [r.record.pk for r in rest.object_list]
    assert len(shown) == 4 and len(set(shown)) == 4
