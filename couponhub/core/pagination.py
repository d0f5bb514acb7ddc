"""Counting and paging of a list page at any size (`ListPaginator`, used by views.paginate).

Two costs grow with a table and not with a page: an exact `count(*)` of everything a filter
matches, and `OFFSET n`, which reads and throws away n rows. At ten million rows each takes a
second. So a list page

- counts exactly up to EXACT_UP_TO rows (a count over `LIMIT EXACT_UP_TO + 1`, which stops
  early), and past that shows PostgreSQL's planner estimate of the filtered query, marked as one
  ("约 4,800,000 条"; `ListPaginator.estimated`);
- reaches a page by its number (OFFSET) only within the first MAX_OFFSET rows, and walks on from
  any page by keyset: 下一页 carries the key of the page's last row (`?after=<pk>`), 上一页 the
  first row's (`?before=<pk>`), and the next page is the rows ordered after (before) that row's
  values of the list's ordering — an index range scan, as fast on page 50,000 as on page 2.

Keyset needs an ordering of plain fields with a unique last key: the queryset's ordering (or the
model's) gets `pk` appended when it is not already there, for pages by number too, so both ways
of reaching a page show the same rows. A row whose ordering value is NULL, or
an ordering by an expression, falls back to the page number.
"""

import json
import math
import re

from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property

from couponhub.core.forms import id_from

EXACT_UP_TO = 10_000
MAX_OFFSET = 10_000
AFTER, BEFORE = "after", "before"


def planner_estimate(queryset: QuerySet) -> int:
    """PostgreSQL's estimate of the rows `queryset` returns (EXPLAIN, nothing is read)."""
    # the filtered rows' keys only: no select_related joins or columns for the planner to plan
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _queryset_of(object_list) -> QuerySet | None:
    """The queryset behind a django-tables2 table's rows (or a queryset itself)."""
    if isinstance(object_list, QuerySet):
        return object_list
    data = getattr(getattr(object_list, "data", None), "data", None)
    return data if isinstance(data, QuerySet) else None


def _ordering(queryset: QuerySet) -> list[str] | None:
    """The list's ordering as field names ('-' for descending) ending in pk, or None when it is
    not plain fields (keyset is then not used)."""
    query = queryset.query
    fields = list(query.order_by or (query.default_ordering and queryset.model._meta.ordering))
    if not all(isinstance(f, str) and f.lstrip("-") and "?" not in f for f in fields):
        return None
    pk_names = {"pk", queryset.model._meta.pk.name}
    if not any(f.lstrip("-") in pk_names for f in fields):
        fields.append("pk")
    return fields


class ListPaginator(Paginator):
    """A Paginator for django-tables2 (`paginator_class`) whose count is exact when small and an
    estimate when large, and which pages by keyset when given `after`/`before` (see the module)."""

    def __init__(self, object_list, per_page, *, request=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.queryset = _queryset_of(object_list)
        self._estimated = False
        self.keyset = None  # (direction, pk) of the row the requested page follows/precedes
        if request is not None and self.queryset is not None:
            for direction in (AFTER, BEFORE):
                value = id_from(request.GET.get(direction, ""))
                if value is not None:
                    self.keyset = (direction, value)
                    break

    @cached_property
    def count(self) -> int:
        if self.queryset is None:
            return super().count
        # the keys only: a row's annotations (a subquery a row) and joins for its columns are
        # not computed for up to ten thousand rows to count them
        capped = self.queryset.order_by().values("pk")[: EXACT_UP_TO + 1].count()
        if capped <= EXACT_UP_TO:
            return capped
        self._estimated = True
        return max(planner_estimate(self.queryset), EXACT_UP_TO + 1)

    @property
    def estimated(self) -> bool:
        """Whether `count` is the planner's estimate (asking counts, if not counted yet)."""
        _ = self.count
        return self._estimated

    @cached_property
    def offset_pages(self) -> int:
        """The pages reachable by number (OFFSET within MAX_OFFSET)."""
        return max(1, MAX_OFFSET // self.per_page + 1)

    def validate_number(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        number = max(number, 1)
        if self.estimated or self.count > MAX_OFFSET:
            # an estimate is no bound to check against; deep pages are walked by keyset
            return min(number, self.offset_pages)
        return min(number, self.num_pages)

    def page(self, number):
        if self.keyset is not None:
            page = self._keyset_page(number)
            if page is not None:
                return page
        if self.queryset is None:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ordering = _ordering(self.queryset)
        queryset = self.queryset.order_by(*ordering) if ordering else self.queryset
        # a row more than the page tells whether a next page exists, without the total
        records = list(queryset[bottom : bottom + self.per_page + 1])
        more = len(records) > self.per_page
        return self._page(records[: self.per_page], number, more=more, previous=number > 1)

    def _keyset_page(self, number):
        direction, pk = self.keyset
        ordering = _ordering(self.queryset)
        if ordering is None:
            return None
        fields = [f.lstrip("-") for f in ordering]
        values = self.queryset.model._base_manager.filter(pk=pk).values_list(*fields).first()
        if values is None or any(v is None for v in values):
            return None
        forward = direction == AFTER
        condition = _keyset_condition(ordering, values, forward=forward)
        queryset = self.queryset.filter(condition)
        if not forward:
            queryset = queryset.order_by(*(_flip(f) for f in ordering))
        else:
            queryset = queryset.order_by(*ordering)
        records = list(queryset[: self.per_page + 1])
        more = len(records) > self.per_page
        records = records[: self.per_page]
        if not forward:
            records.reverse()
        try:
            number = max(1, int(number))
        except (TypeError, ValueError):
            number = 1
        # going forward the page after this one exists when a row more came back; the one
        # before exists since we came from it (and the other way round)
        if forward:
            return self._page(records, number, more=more, previous=True)
        return self._page(records, number, more=True, previous=more)

    def _page(self, records, number, *, more: bool, previous: bool) -> "ListPage":
        page = ListPage(self._rows(records), number, self)
        page.more, page.previous_exists = more, previous
        if records:
            page.first_key, page.last_key = records[0].pk, records[-1].pk
        return page

    def _rows(self, records):
        """Rows of a django-tables2 table for `records`, or the records themselves."""
        table = getattr(self.object_list, "table", None)
        if table is None:
            return records
        from django_tables2.rows import BoundRows

        return BoundRows(data=records, table=table)


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else "-" + field


def _keyset_condition(ordering: list[str], values, *, forward: bool) -> Q:
    """Rows after (before) a row with `values` in `ordering`: (f1 beyond v1) or (f1 = v1 and f2
    beyond v2) … with also `f1 at or beyond v1`, so the first field bounds an index range scan."""
    condition = Q()
    equal = Q()
    for field, value in zip(ordering, values, strict=True):
        name = field.lstrip("-")
        ascending = not field.startswith("-")
        lookup = "gt" if ascending == forward else "lt"
        condition |= equal & Q(**{f"{name}__{lookup}": value})
        equal &= Q(**{name: value})
    first, value = ordering[0], values[0]
    bound = "gte" if (not first.startswith("-")) == forward else "lte"
    return Q(**{f"{first.lstrip('-')}__{bound}": value}) & condition


class ListPage(Page):
    """A page that knows whether there is a next and a previous page without a total."""

    more = False
    previous_exists = False

    def has_next(self):
        return self.more

    def has_previous(self):
        return self.previous_exists

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        if self.number <= 1:
            raise EmptyPage
        return self.number - 1

    first_key = None  # the pk of the page's first row: 上一页 is ?before=<it>
    last_key = None  # the pk of its last row: 下一页 is ?after=<it>

    @property
    def approximate_pages(self) -> int:
        return max(1, math.ceil(self.paginator.count / self.paginator.per_page))


class UnionPaginator(ListPaginator):
    """A ListPaginator over a list made of several tables (the redemption records: our lines and
    outside coupons). `parts` maps a kind to a queryset of values `kind`, `row_id` and `at`; the
    list is their UNION ALL, newest first by (at, row_id, kind). Each part is ordered and cut to
    the rows a page needs before the UNION, so a page reads at most `offset + per_page + 1` rows
    of each part through its index; the total is the parts' capped counts or estimates, added.
    A key names a row as kind and id ("coupon123"): 下一页 is ?after=<it>, 上一页 ?before=<it>."""

    def __init__(self, object_list, per_page, *, parts: dict, request=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.parts = parts
        self.queryset = None
        self.keyset = None  # (direction, kind, row_id)
        if request is not None:
            for direction in (AFTER, BEFORE):
                match = _UNION_KEY.match(request.GET.get(direction, ""))
                if match and match[1] in parts:
                    self.keyset = (direction, match[1], int(match[2]))
                    break

    @cached_property
    def count(self) -> int:
        arms = [qs.order_by()[: EXACT_UP_TO + 1] for qs in self.parts.values()]
        # one query: the parts' capped rows, UNION ALL, counted
        capped = arms[0].union(*arms[1:], all=True).count() if len(arms) > 1 else arms[0].count()
        if capped <= EXACT_UP_TO:
            return capped
        self._estimated = True
        estimate = sum(planner_estimate(qs) for qs in self.parts.values())
        return max(estimate, EXACT_UP_TO + 1)

    def _union(self, conditions: dict, limit: int, *, descending: bool):
        order = ["-at", "-row_id", "-kind"] if descending else ["at", "row_id", "kind"]
        arms = [
            qs.filter(conditions.get(kind, Q())).order_by(*order)[:limit]
            for kind, qs in self.parts.items()
        ]
        if len(arms) == 1:
            return arms[0]
        return arms[0].union(*arms[1:], all=True).order_by(*order)[:limit]

    def page(self, number):
        if self.keyset is not None:
            page = self._keyset_page(number)
            if page is not None:
                return page
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        # the offset in SQL: a deep page by number sends its page, not every row before it
        rows = list(self._union({}, bottom + self.per_page + 1, descending=True)[bottom:])
        more = len(rows) > self.per_page
        return self._page(rows[: self.per_page], number, more=more, previous=number > 1)

    def _keyset_page(self, number):
        direction, kind, row_id = self.keyset
        at = self.parts[kind].filter(row_id=row_id).values_list("at", flat=True).first()
        if at is None:
            return None
        forward = direction == AFTER
        beyond, bound = ("lt", "lte") if forward else ("gt", "gte")
        conditions = {}
        for other in self.parts:
            after = Q(**{f"at__{beyond}": at}) | Q(at=at, **{f"row_id__{beyond}": row_id})
            if (other < kind) if forward else (other > kind):
                after |= Q(at=at, row_id=row_id)
            # `at` bounded on its own too: the index range scan starts at the key
            conditions[other] = Q(**{f"at__{bound}": at}) & after
        rows = list(self._union(conditions, self.per_page + 1, descending=forward))
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not forward:
            rows.reverse()
        try:
            number = max(1, int(number))
        except (TypeError, ValueError):
            number = 1
        if forward:
            return self._page(rows, number, more=more, previous=True)
        return self._page(rows, number, more=True, previous=more)

    def _page(self, records, number, *, more: bool, previous: bool) -> "ListPage":
        page = ListPage(self._rows(records), number, self)
        page.more, page.previous_exists = more, previous
        if records:
            page.first_key = f"{records[0]['kind']}{records[0]['row_id']}"
            page.last_key = f"{records[-1]['kind']}{records[-1]['row_id']}"
        return page


_UNION_KEY = re.compile(r"^([a-z]{1,20})(\d{1,18})$", re.ASCII)
