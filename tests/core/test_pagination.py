"""List pages at any size: an exact total when small, the planner's estimate when large, and
pages walked by keyset (core.pagination)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from couponhub.core import pagination
from couponhub.core.models import AuditEntry, RoleAssignment
from couponhub.core.pagination import ListPaginator
from tests.factories import OrgFactory, user_with_role

pytestmark = pytest.mark.django_db


def _entries(n: int, *, same_time_every: int = 3) -> list[AuditEntry]:
    """n entries whose times repeat in groups (ties broken by pk)."""
    base = timezone.now() - datetime.timedelta(days=1)
    return AuditEntry.objects.bulk_create(
        AuditEntry(
            action=f"bench.e{i}",
            created_at=base + datetime.timedelta(seconds=i // same_time_every),
        )
        for i in range(n)
    )


class _Get:
    def __init__(self, **params):
        self.GET = {k: str(v) for k, v in params.items()}


def _page(queryset, number=1, per_page=4, **params):
    return ListPaginator(queryset, per_page, request=_Get(**params)).page(number)


def _actions(page) -> list[str]:
    return [e.action for e in page.object_list]


def test_a_small_list_is_counted_exactly_and_paged_by_number():
    _entries(10)
    qs = AuditEntry.objects.order_by("-created_at")
    page = _page(qs, 3)
    assert (page.paginator.count, page.paginator.estimated, page.paginator.num_pages) == (
        10,
        False,
        3,
    )
    assert len(page.object_list) == 2 and not page.has_next() and page.has_previous()
    # a page number past the end shows the last page
    assert _page(qs, 99).number == 3


def test_a_large_list_shows_the_planners_estimate(monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 5)
    _entries(40)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_auditentry")
    paginator = ListPaginator(AuditEntry.objects.all(), 4)
    assert paginator.estimated and paginator.count > 5  # asking first counts too
    assert paginator.count == pagination.planner_estimate(AuditEntry.objects.all())
    assert 30 <= paginator.count <= 50  # the statistics of the table just analysed


@pytest.mark.parametrize("ordering", [("-created_at",), ("created_at",), ("action",), ()])
def test_keyset_pages_walk_the_list_as_offsets_do_both_ways(ordering):
    # given a list whose ordering has ties (every three entries share a time)
    _entries(23)
    qs = AuditEntry.objects.order_by(*ordering) if ordering else AuditEntry.objects.all()
    every = list(qs.order_by(*(ordering or AuditEntry._meta.ordering), "pk"))  # the model's
    expected = [[e.action for e in every[i : i + 4]] for i in range(0, 23, 4)]
    # when walking forward from page 1 by 下一页 (after=<last key>)
    page, seen = _page(qs, 1), []
    while True:
        seen.append(_actions(page))
        if not page.has_next():
            break
        page = _page(qs, page.next_page_number(), after=page.last_key)
    # then every row comes once, in the order of the offsets
    assert seen == expected and page.number == 6
    # and walking back by 上一页 (before=<first key>) gives the same pages in reverse
    back = [_actions(page)]
    while page.has_previous():
        page = _page(qs, page.previous_page_number(), before=page.first_key)
        back.append(_actions(page))
    assert back == expected[::-1] and page.number == 1


def test_deep_pages_are_reached_by_keyset_not_offset(monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 5)
    monkeypatch.setattr(pagination, "MAX_OFFSET", 8)
    _entries(30)
    qs = AuditEntry.objects.order_by("created_at")
    # a page number beyond the offset limit shows the last page reachable by number
    page = _page(qs, 50)
    assert page.number == 3 == page.paginator.offset_pages
    # the query of a keyset page bounds the ordering's first field (an index range scan)
    with CaptureQueriesContext(connection) as queries:
        page = _page(qs, 4, after=page.last_key)
    assert _actions(page) == [f"bench.e{i}" for i in range(12, 16)]
    sql = queries.captured_queries[-1]["sql"]
    assert '"core_auditentry"."created_at" >=' in sql and "OFFSET" not in sql


def test_an_unknown_key_falls_back_to_the_page_number():
    _entries(10)
    page = _page(AuditEntry.objects.order_by("-created_at"), 2, after=999_999_999)
    assert page.number == 2 and len(page.object_list) == 4


def test_the_audit_log_shows_an_estimate_and_keyset_links(client, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 5)
    _entries(45)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_auditentry")
    client.force_login(user_with_role(RoleAssignment.Role.ADMIN, OrgFactory()))
    response = client.get(reverse("core:audit_log"))
    html = response.content.decode()
    assert "约 " in html and " 条" in html and "第 1 页" in html
    table = response.context["table"]
    assert f"after={table.page.last_key}" in html and "page=2" in html
    # the next page by its link: the rows after, in the list's order
    response = client.get(reverse("core:audit_log"), {"page": 2, "after": table.page.last_key})
    second = response.context["table"]
    assert second.page.number == 2
    assert f"before={second.page.first_key}" in response.content.decode()
    assert [r.record.pk for r in second.page.object_list] == [
        e.pk for e in AuditEntry.objects.order_by("-created_at", "pk")[20:40]
    ]


@pytest.mark.parametrize("key", ["\u00b2", "\u0661\u0662", "9" * 40])
def test_a_key_that_is_no_id_falls_back_to_the_page_number(key):
    # "²" and Arabic-Indic digits pass str.isdigit(); int("²") raised: a 500 on every list page
    _entries(10)
    page = _page(AuditEntry.objects.order_by("-created_at"), 2, after=key)
    assert page.number == 2 and len(page.object_list) == 4
