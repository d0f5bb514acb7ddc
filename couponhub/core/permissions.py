"""Who may do what, and where.

A permission is a string such as "redemption.redeem". Roles grant permissions; a role assignment
grants them on an org node and its subtree. Every view and API handler asks through the helpers
here: no permission anywhere → 403; the object outside the user's scope for that permission → 404.
"""

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from couponhub.core.models import Org, RoleAssignment

Role = RoleAssignment.Role

_CLERK = {
    "members.lookup",
    "members.edit",
    "coupons.issue_to_member",
    "redemption.redeem",
    "redemption.view_records",
    "redemption.return",
    "redemption.link_order",
    # activation at sale: the store sells printed pickup cards and physical coupons
    "pickup.activate_cards",
    "coupons.activate",
}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CLERK: frozenset(_CLERK),
    Role.STORE_MANAGER: frozenset(_CLERK | {"reports.view_store", "pickup.verify_store_order"}),
    Role.OPERATOR: frozenset(
        {
            "members.view",
            "members.import",
            "members.edit",
            "members.adjust_balance",
            "members.message",
            "members.manage_tags",
            "coupons.issue_to_member",
            "coupons.void_freeze",
            "coupons.view",
            "coupons.edit_rules",
            "coupons.manage_campaigns",
            "coupons.issue",
            "coupons.manage_physical",
            "coupons.activate",
            "pickup.activate_cards",
            "redemption.manage_outside",
            "pickup.view",
            "pickup.manage",
            "promocodes.view",
            "promocodes.apply",
            "promocodes.manage_channels",
            "products.view",
            "products.manage",
        }
    ),
    Role.FINANCE: frozenset(
        {
            "coupons.view",
            "coupons.approve_rules",
            "promocodes.view",
            "promocodes.approve",
            "promocodes.finance_limits",
            "promocodes.budgets",
            "products.view",
            "reports.view",
            "reports.view_cost",
            "reports.export",
        }
    ),
    Role.HQ: frozenset(
        {
            "members.view",
            "coupons.view",
            "redemption.view_records",
            "promocodes.view",
            "pickup.view",
            "products.view",
            "reports.view",
            "reports.view_store",
            "reports.view_cost",
            "reports.export",
            "core.view_full_phone",
        }
    ),
    Role.ADMIN: frozenset(
        {
            "core.manage_users",
            "core.manage_orgs",
            "core.view_audit",
            "core.manage_sms",
            "core.manage_settings",
            "core.view_full_phone",
            "core.manage_events",
            "api.manage_clients",
        }
    ),
}
ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


def _check_known(perm: str) -> None:
    if perm not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {perm!r}")


def _assignments(user) -> list[tuple[str, str]]:
    """(role, org path) pairs, cached on the user object for the request."""
    cached = getattr(user, "_role_paths", None)
    if cached is None:
        cached = list(
            RoleAssignment.objects.filter(user=user, org__is_active=True).values_list(
                "role", "org__path"
            )
        )
        user._role_paths = cached
    return cached


def scope_paths(user, perm: str) -> list[str] | None:
    """Org paths under which `user` holds `perm`; None means everywhere (superuser)."""
    _check_known(perm)
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    return sorted({path for role, path in _assignments(user) if perm in ROLE_PERMISSIONS[role]})


def has_perm(user, perm: str, org: Org | None = None) -> bool:
    """May `user` do `perm` at all (org=None), or on this org node?"""
    paths = scope_paths(user, perm)
    if paths is None:
        return True
    if perm == "core.view_full_phone" and user.has_perm("core.view_full_phone"):
        return True
    if org is None:
        return bool(paths)
    return any(org.path.startswith(p) for p in paths)


def scope_q(user, perm: str, field: str) -> Q:
    """A filter keeping the rows whose org (reached through `field`) is in the user's scope.

    field is the lookup path to an Org, e.g. "store", "redemption__store"; "" for Org itself.
    """
    paths = scope_paths(user, perm)
    if paths is None:
        return Q()
    if not paths:
        return Q(pk__in=[])
    lookup = f"{field}__path__startswith" if field else "path__startswith"
    q = Q()
    for path in paths:
        q |= Q(**{lookup: path})
    return q


def scope_ids(user, perm: str) -> list[int] | None:
    """The ids of the org nodes in the user's scope for `perm` (one query); None: everywhere.
    `<field>_id IN (…)` lets the planner walk an index that starts with the org, where a path
    prefix on a joined table hides which stores those are (a store's list read through every
    store's rows)."""
    if scope_paths(user, perm) is None:
        return None
    return list(Org.objects.filter(scope_q(user, perm, "")).values_list("pk", flat=True))


def require(user, perm: str) -> None:
    """403 unless the user holds `perm` somewhere."""
    if not has_perm(user, perm):
        raise PermissionDenied


def require_in_scope(user, perm: str, org: Org | None) -> None:
    """403 without the permission, 404 when the org is outside the user's scope."""
    require(user, perm)
    if org is None or not has_perm(user, perm, org):
        raise Http404


def scoped(user, perm: str, queryset: QuerySet, field: str) -> QuerySet:
    """The queryset cut to the user's scope; 403 without the permission at all."""
    require(user, perm)
    return queryset.filter(scope_q(user, perm, field))


def get_scoped_or_404(user, perm: str, queryset: QuerySet, field: str, **lookup):
    """One object the user may act on: 403 without the permission, 404 if out of scope."""
    try:
        return scoped(user, perm, queryset, field).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def permission_required(perm: str):
    """View decorator: logged in (else login page) and holding `perm` somewhere (else 403)."""
    _check_known(perm)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            require(request.user, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def stores_for(user, perm: str) -> QuerySet:
    """Stores in the user's scope for `perm`."""
    return Org.objects.filter(scope_q(user, perm, ""), kind=Org.Kind.STORE, is_active=True)


def roles_of(user) -> set[str]:
    if user.is_superuser:
        return set(ROLE_PERMISSIONS)
    return {role for role, _path in _assignments(user)}


def any_perm(user, perms: Iterable[str]) -> bool:
    return any(has_perm(user, p) for p in perms)


def can_view_full_phone(user) -> bool:
    return has_perm(user, "core.view_full_phone")


def mask_phone(phone: str, user=None) -> str:
    if user is not None and can_view_full_phone(user):
        return phone
    if len(phone) >= 7:
        return f"{phone[:3]}****{phone[-4:]}"
    return "****"


COUNTER_STORES_PERM = "members.lookup"
