"""优惠券核销记录 at a chain's size: our lines and outside coupons in one list, walked by 下一页 /
上一页 keys (no OFFSET), a total that says 约 N 条 past the exact count, date filters that mean
whole days in China's time."""

import datetime

import pytest
from django.utils import timezone

from couponhub.core import pagination
from couponhub.core.models import RoleAssignment
from tests.factories import user_with_role
from tests.members.factories import MemberFactory
from tests.redemption.factories import (
    OutsideCouponFactory,
    RedemptionFactory,
    RedemptionLineFactory,
)

pytestmark = pytest.mark.django_db
URL = "/redemption/records/"


@pytest.fixture
def clerk(client, store):
    client.force_login(user_with_role(RoleAssignment.Role.CLERK, store))


@pytest.fixture
def rows(store):
    """27 lines and 6 used outside coupons, newest first as the page lists them; two lines of
    one redemption share its time, and an outside coupon is used at that very time too."""
    now = timezone.now()
    keys = []
    for i in range(25):
        at = now - datetime.timedelta(minutes=i)
        line = RedemptionLineFactory(redemption__store=store, redemption__created_at=at)
        keys.append((at, line.pk, "coupon"))
    shared = RedemptionFactory(store=store, created_at=now - datetime.timedelta(seconds=90))
    for _ in range(2):
        keys.append((shared.created_at, RedemptionLineFactory(redemption=shared).pk, "coupon"))
    for i in range(6):
        at = shared.created_at if i == 0 else now - datetime.timedelta(minutes=i, seconds=30)
        outside = OutsideCouponFactory(status="used", used_at=at, used_store=store)
        keys.append((at, outside.pk, "outside"))
    OutsideCouponFactory(used_store=store)  # unused: not a record
    keys.sort(reverse=True)
    return [(kind, pk) for _at, pk, kind in keys]


def _shown(response):
    assert response.status_code == 200
    return [
        (r.record["kind"], r.record["row_id"]) for r in response.context["table"].page.object_list
    ]


def test_next_and_previous_walk_every_record_once_newest_first(client, clerk, rows):
    seen, pages, query = [], [], {}
    while True:
        response = client.get(URL, query)
        shown = _shown(response)
        seen += shown
        pages.append((query, shown))
        page = response.context["table"].page
        if not page.has_next():
            break
        assert page.last_key == f"{shown[-1][0]}{shown[-1][1]}"
        query = {"page": page.number + 1, "after": page.last_key}
    assert seen == rows and len(pages) == 2
    # 上一页 from the second page is the first page again
    second = client.get(URL, pages[1][0])
    back = client.get(URL, {"page": 1, "before": second.context["table"].page.first_key})
    assert _shown(back) == pages[0][1]
    assert not back.context["table"].page.has_previous()


def test_a_page_by_number_shows_the_same_rows_as_by_key(client, clerk, rows):
    assert _shown(client.get(URL, {"page": 2})) == rows[20:]
    assert "33 条" in client.get(URL).content.decode()


def test_past_the_exact_count_the_total_is_an_estimate_it_says_is_one(
    client, clerk, rows, monkeypatch
):
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 10)
    response = client.get(URL)
    assert response.context["table"].paginator.estimated
    assert "约 " in response.content.decode()
    assert _shown(response) == rows[:20]


@pytest.mark.parametrize("key", ["coupon999999999", "outside1", "x\u00b2", "coupon", "12"])
def test_a_key_of_no_row_or_no_key_at_all_shows_the_first_page(client, clerk, rows, key):
    assert _shown(client.get(URL, {"after": key})) == rows[:20]


def test_the_date_filter_takes_whole_days_in_china(client, clerk, store):
    day = timezone.localdate() - datetime.timedelta(days=3)
    late = timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 50)))
    inside = RedemptionLineFactory(redemption__store=store, redemption__created_at=late)
    after = RedemptionLineFactory(
        redemption__store=store, redemption__created_at=late + datetime.timedelta(minutes=20)
    )
    outside = OutsideCouponFactory(status="used", used_at=late, used_store=store)
    shown = _shown(client.get(URL, {"time_from": day.isoformat(), "time_to": day.isoformat()}))
    assert shown == [("coupon", inside.pk), ("outside", outside.pk)]
    shown = _shown(client.get(URL, {"time_from": (day + datetime.timedelta(days=1)).isoformat()}))
    assert shown == [("coupon", after.pk)]


def test_digits_are_a_number_never_part_of_a_name(client, clerk, store):
    named = MemberFactory(name="会员5678", phone="13900001111", card_no="5500000001")
    phone = MemberFactory(name="李雷", phone="13900005678", card_no="5500000002")
    by_name = RedemptionLineFactory(redemption__store=store, redemption__member=named)
    by_phone = RedemptionLineFactory(redemption__store=store, redemption__member=phone)
    assert _shown(client.get(URL, {"member": "5678"})) == [("coupon", by_phone.pk)]
    assert _shown(client.get(URL, {"member": "会员"})) == [("coupon", by_name.pk)]
    assert _shown(client.get(URL, {"member": "5500000001"})) == [("coupon", by_name.pk)]


def test_a_code_typed_in_small_letters_finds_the_coupon(client, clerk, store):
    line = RedemptionLineFactory(redemption__store=store, coupon__code="RX8C3E01")
    assert _shown(client.get(URL, {"code": " rx8c3e01 "})) == [("coupon", line.pk)]
