"""Who sees which report rows.

HQ and finance hold `reports.view` on the group (every store); a store manager holds
`reports.view_store` on their store only. A report row carries the org path of its store, so the
scope is a prefix match on that path.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from couponhub.core.models import Org
from couponhub.core.permissions import has_perm, scope_paths

VIEW_PERMS = ("reports.view", "reports.view_store")


def report_paths(user) -> list[str] | None:
    """Org paths whose rows the user may see; None means every row (superuser)."""
    paths: set[str] = set()
    for perm in VIEW_PERMS:
        found = scope_paths(user, perm)
        if found is None:
            return None
        paths.update(found)
    # a path under another one adds nothing
    return sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths))


def require_reports(user) -> None:
    if not any(has_perm(user, perm) for perm in VIEW_PERMS):
        raise PermissionDenied


def _root_paths() -> set[str]:
    return set(Org.objects.filter(parent__isnull=True).values_list("path", flat=True))


def path_q(user, field: str = "org_path") -> Q:
    paths = report_paths(user)
    if paths is None or (paths and _root_paths() <= set(paths)):
        # the whole tree: no filter at all, so the planner can use the other indexes freely
        return Q()
    if not paths:
        return Q(pk__in=[])
    # a store has no nodes below it: equality there lets (org_path, -obtained_at) serve the
    # filter and the order at once
    leaves = set(
        Org.objects.filter(path__in=paths, kind=Org.Kind.STORE).values_list("path", flat=True)
    )
    q = Q()
    for path in paths:
        lookup = "exact" if path in leaves else "startswith"
        q |= Q(**{f"{field}__{lookup}": path})
    return q


def scoped_rows(user, queryset: QuerySet, field: str = "org_path") -> QuerySet:
    require_reports(user)
    return queryset.filter(path_q(user, field))


def scope_orgs(user) -> QuerySet:
    """The org nodes a user may pick in the 全业态 / node selector."""
    return (
        Org.objects.filter(path_q(user, "path"), is_active=True)
        .select_related("parent")
        .order_by("path")
    )


def sees_everything(user) -> bool:
    paths = report_paths(user)
    return paths is None or any(path.count("/") == 2 for path in paths)
