"""Writes of the core domain: the org tree and staff role assignments."""

from django.db import transaction

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.models import Org, RoleAssignment, User


def create_org(
    *, actor, kind: str, name: str, code: str, parent: Org | None = None, **extra
) -> Org:
    with transaction.atomic():
        org = Org.objects.create(kind=kind, name=name, code=code, parent=parent, **extra)
        record_audit(actor=actor, action="org.create", obj=org, after=snapshot(org), org=org)
    return org


def assign_role(*, actor, user: User, role: str, org: Org) -> RoleAssignment:
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, org=org)
        if created:
            record_audit(
                actor=actor,
                action="role.assign",
                obj=assignment,
                org=org,
                after={"user": user.get_username(), "role": role, "org": org.code},
            )
    return assignment


def change_own_password(*, user: User, new_password: str) -> None:
    """The user chose a new password (checked by the form against the validators); a temporary
    password given by an administrator is then spent."""
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        record_audit(actor=user, action="user.change_password", obj=user)
