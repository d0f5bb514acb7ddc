from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP rows: an exact total of millions of facts costs a full scan.

    Above the cap the pager says "10,000+" and the last reachable page is the cap's; the export
    has every row.
    """

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        # django-tables2 hands over its BoundRows; the queryset sits two levels down
        queryset = getattr(getattr(rows, "data", None), "data", rows)
        # no ORDER BY: any cap+1 matching rows will do, the planner need not sort them first
        return queryset.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap
