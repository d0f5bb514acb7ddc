"""Reads of the administrator's pages, cut to the administrator's scope.

An administrator manages the staff whose every role lies inside their own `core.manage_users`
scope (a regional administrator never sees head office's staff); accounts without any role only
from the top of the tree, superusers only by superusers. Org nodes: the `core.manage_orgs` scope.
"""

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from couponhub.core.models import Org, RoleAssignment, User
from couponhub.core.permissions import scope_paths, scope_q, scoped

USERS_PERM = "core.manage_users"
ORGS_PERM = "core.manage_orgs"


def _lock_window():
    return timezone.now() - get_cool_off()


def locked_q() -> Q:
    """Users locked out now: django-axes counts failures per username (and address)."""
    return Q(
        Exists(
            AccessAttempt.objects.filter(
                username=OuterRef("username"),
                failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                attempt_time__gte=_lock_window(),
            )
        )
    )


def manageable_users(actor) -> QuerySet[User]:
    users = User.objects.all()
    paths = scope_paths(actor, USERS_PERM)
    if paths is None:
        return users
    if not paths:
        return users.none()
    outside = RoleAssignment.objects.filter(user=OuterRef("pk")).exclude(
        scope_q(actor, USERS_PERM, "org")
    )
    users = users.filter(is_superuser=False).exclude(Exists(outside))
    if not any(path.count("/") == 2 for path in paths):  # "/<id>/": the top of the tree
        users = users.filter(Exists(RoleAssignment.objects.filter(user=OuterRef("pk"))))
    return users


def user_list(actor, *, query: str = "", status: str = "", role: str = "") -> QuerySet[User]:
    users = manageable_users(actor).annotate(locked=locked_q())
    if query:
        users = users.filter(
            Q(username__icontains=query) | Q(first_name__icontains=query) | Q(phone__contains=query)
        )
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "inactive":
        users = users.filter(is_active=False)
    elif status == "locked":
        users = users.filter(locked=True)
    if role:
        users = users.filter(role_assignments__role=role).distinct()
    return users.prefetch_related(
        Prefetch("role_assignments", RoleAssignment.objects.select_related("org").order_by("pk"))
    ).order_by("username")


def user_detail(actor, pk: int) -> User:
    """403 without the permission, 404 for a user outside the scope."""
    scoped(actor, USERS_PERM, Org.objects.none(), "")  # the 403
    try:
        return manageable_users(actor).annotate(locked=locked_q()).get(pk=pk)
    except User.DoesNotExist as exc:
        raise Http404 from exc


def failed_logins(user: User) -> int:
    return (
        AccessAttempt.objects.filter(username=user.username).aggregate(
            n=Sum("failures_since_start")
        )["n"]
        or 0
    )


def assignments_of(user: User) -> QuerySet[RoleAssignment]:
    return user.role_assignments.select_related("org", "org__parent").order_by("org__path", "role")


def orgs_for_users(actor) -> QuerySet[Org]:
    """Where the administrator may give roles."""
    return scoped(actor, USERS_PERM, Org.objects.filter(is_active=True), "")


def org_tree(actor) -> QuerySet[Org]:
    return scoped(actor, ORGS_PERM, Org.objects.all(), "").order_by("path")


def parent_choices(actor) -> QuerySet[Org]:
    return scoped(
        actor, ORGS_PERM, Org.objects.filter(is_active=True).exclude(kind=Org.Kind.STORE), ""
    ).order_by("path")
