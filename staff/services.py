"""Writes of the administrator's pages: staff accounts, their roles, the org tree.

The models are the core's (User, RoleAssignment, Org); these are the actions an administrator
takes on them, each in one transaction with its audit entry. Passwords never enter an entry.
"""

import re
import secrets
from dataclasses import dataclass, field

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.models import Org, RoleAssignment, SmsMessage, User
from couponhub.core.permissions import has_perm
from couponhub.core.services import assign_role, create_org
from couponhub.core.sms import send_sms
from couponhub.core.spreadsheets import read_rows

Role = RoleAssignment.Role
USER_FIELDS = ["username", "first_name", "phone", "email", "is_active", "must_change_password"]
ORG_FIELDS = ["kind", "name", "code", "parent_id", "path", "address", "phone", "is_active"]
PHONE_RE = re.compile(r"^1\d{10}$")
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")
# no 0/O, 1/l/I: read aloud or copied from a screen without mistakes
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_IMPORT_ROWS = 2_000


def temporary_password() -> str:
    """Twelve characters from `secrets`: about 70 bits, spent at the first log-in."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _check_username(username: str, label: str = "") -> None:
    if not USERNAME_RE.match(username):
        raise Refused(
            "bad_username",
            _("%(label)sUsername “%(name)s” may only hold letters, digits and @.+-_.")
            % {"label": label, "name": username},
        )
    if User.objects.filter(username__iexact=username).exists():
        raise Refused(
            "username_taken",
            _("%(label)sUsername “%(name)s” is already taken.")
            % {"label": label, "name": username},
            409,
        )


def _check_phone(phone: str, label: str = "") -> None:
    if phone and not PHONE_RE.match(phone):
        raise Refused(
            "bad_phone",
            _("%(label)sPhone “%(phone)s” is not an 11-digit mobile number.")
            % {"label": label, "phone": phone},
        )


def _check_role_org(role: str, org: Org, label: str = "") -> None:
    if role not in Role.values:
        raise Refused(
            "bad_role",
            _("%(label)sRole “%(role)s” does not exist.") % {"label": label, "role": role},
        )
    if not org.is_active:
        raise Refused(
            "org_closed",
            _("%(label)s%(org)s is closed; no role can be given there.")
            % {"label": label, "org": org.name},
            409,
        )
    if role in {Role.CLERK, Role.STORE_MANAGER} and not org.is_store:
        raise Refused(
            "role_needs_store",
            _("%(label)sA %(role)s works at a store; %(org)s is not a store.")
            % {"label": label, "role": Role(role).label, "org": org.name},
        )


def _user_after(user: User) -> dict:
    return snapshot(user, USER_FIELDS)


# --- users ---------------------------------------------------------------------------------


def create_user(
    *,
    actor,
    username: str,
    full_name: str,
    phone: str = "",
    email: str = "",
    role: str,
    org: Org,
) -> tuple[User, str]:
    """A new staff account with one role and a temporary password, returned once to be handed
    over; the user must choose their own at the first log-in."""
    username = username.strip()
    _check_username(username)
    _check_phone(phone)
    _check_role_org(role, org)
    password = temporary_password()
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=full_name,
            phone=phone,
            email=email,
            must_change_password=True,
        )
        record_audit(actor=actor, action="staff.create_user", obj=user, after=_user_after(user))
        assign_role(actor=actor, user=user, role=role, org=org)
    return user, password


def update_user(*, actor, user: User, full_name: str, phone: str, email: str) -> User:
    _check_phone(phone)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = _user_after(user)
        user.first_name, user.phone, user.email = full_name, phone, email
        user.save(update_fields=["first_name", "phone", "email"])
        record_audit(
            actor=actor,
            action="staff.update_user",
            obj=user,
            before=before,
            after=_user_after(user),
        )
    return user


def set_user_active(*, actor, user: User, active: bool) -> User:
    """Deactivate (the account can no longer log in, its open sessions end at the next request)
    or reactivate a staff account."""
    if user.pk == actor.pk and not active:
        raise Refused("own_account", _("You cannot deactivate your own account."), 409)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            message = (
                _("User %(name)s is already active.")
                if active
                else _("User %(name)s is already deactivated.")
            )
            raise Refused("no_change", message % {"name": user.username}, 409)
        before = _user_after(user)
        user.is_active = active
        user.save(update_fields=["is_active"])
        record_audit(
            actor=actor,
            action="staff.activate_user" if active else "staff.deactivate_user",
            obj=user,
            before=before,
            after=_user_after(user),
        )
    return user


def reset_password(*, actor, user: User) -> str:
    """A new temporary password (returned once); the old one stops working now, and the user
    must choose their own at the next log-in. A lock-out is lifted with it."""
    if not user.is_active:
        raise Refused(
            "user_inactive",
            _("User %(name)s is deactivated; reactivate the account first.")
            % {"name": user.username},
            409,
        )
    password = temporary_password()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        AccessAttempt.objects.filter(username=user.username).delete()
        record_audit(
            actor=actor,
            action="staff.reset_password",
            obj=user,
            after={"must_change_password": True},
        )
    return password


class PasswordLinkTokens(PasswordResetTokenGenerator):
    """Django's signed, timed reset token (PASSWORD_RESET_TIMEOUT). Its value already holds the
    password hash and the last log-in, so a link is spent once the password changes; the time
    the newest link was made is added, so making another link voids the older ones."""

    key_salt = "couponhub.staff.PasswordLinkTokens"

    def _make_hash_value(self, user, timestamp):
        made = "" if user.password_link_at is None else user.password_link_at.isoformat()
        return f"{super()._make_hash_value(user, timestamp)}{made}"


password_link_tokens = PasswordLinkTokens()
PASSWORD_LINK_SMS = (
    "【CouponHub】{name}，请在{hours}小时内打开以下链接设置新密码（仅可使用一次）：{url}"
)


@dataclass
class PasswordLink:
    url: str
    sms: SmsMessage | None  # texted to the user's phone; None without a phone


def _link_note(sms) -> str:
    if sms is None:
        return _("no phone: the link was handed over by the administrator")
    if sms.status in (SmsMessage.Status.PENDING, SmsMessage.Status.SENT):
        return _("link texted to the user's phone")
    return _("the SMS was not sent: %(error)s") % {"error": sms.error}


def make_password_link(*, actor, user: User, base_url: str) -> PasswordLink:
    """A one-time link to a page where the user sets a new password (`base_url` is the site's
    address, e.g. https://hub.example.com). Shown once to the administrator and texted to the
    user's phone; the current password keeps working until the link is used. The link works
    once, for PASSWORD_LINK_HOURS, and no longer once another link is made or the user logs in
    (Django's token hashes the last log-in)."""
    if not user.is_active:
        raise Refused(
            "user_inactive",
            _("User %(name)s is deactivated; reactivate the account first.")
            % {"name": user.username},
            409,
        )
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.password_link_at = timezone.now()
        user.save(update_fields=["password_link_at"])
        token = password_link_tokens.make_token(user)
        path = reverse(
            "staff:password_link",
            kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token},
        )
        url = base_url.rstrip("/") + path
        sms = None
        if user.phone:
            sms = send_sms(
                phone=user.phone,
                text=PASSWORD_LINK_SMS.format(
                    name=user.first_name or user.username,
                    hours=settings.PASSWORD_LINK_HOURS,
                    url=url,
                ),
                purpose="staff.password_link",
            )
        record_audit(
            actor=actor,
            action="staff.make_password_link",
            obj=user,
            after={"password_link_at": user.password_link_at},
            note=_link_note(sms),
        )
    return PasswordLink(url=url, sms=sms)


def user_for_password_link(uidb64: str, token: str) -> User | None:
    """The active user whose link this is, or None: unknown user, another user's token, a token
    tampered with, spent (password changed), superseded by a newer link or expired."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or user.password_link_at is None:
        return None
    return user if password_link_tokens.check_token(user, token) else None


def use_password_link(*, uidb64: str, token: str, new_password: str) -> User:
    """Set the password chosen on the link's page (checked by the form against the validators).
    The link is checked again on the locked row, so two submissions at once set it once. A
    lock-out after failed log-ins is lifted, and the user need not change the password again."""
    with transaction.atomic():
        user = user_for_password_link(uidb64, token)
        if user is not None:
            user = User.objects.select_for_update().get(pk=user.pk)
            if not password_link_tokens.check_token(user, token):
                user = None
        if user is None:
            raise Refused(
                "password_link_invalid",
                _(
                    "This password link is not valid: it has been used, has expired, or a newer "
                    "link was made. Ask your administrator for a new one."
                ),
                410,
            )
        user.set_password(new_password)
        user.must_change_password = False
        user.password_link_at = None
        user.save(update_fields=["password", "must_change_password", "password_link_at"])
        failures = AccessAttempt.objects.filter(username=user.username)
        cleared = sum(failures.values_list("failures_since_start", flat=True))
        failures.delete()
        record_audit(
            actor=user,
            action="staff.use_password_link",
            obj=user,
            after={"must_change_password": False},
            note=_("%(n)s failed log-ins cleared") % {"n": cleared} if cleared else "",
        )
    return user


def unlock_user(*, actor, user: User) -> int:
    """Lift a lock-out after failed log-ins (django-axes' attempts for the username)."""
    with transaction.atomic():
        attempts = AccessAttempt.objects.filter(username=user.username)
        failures = sum(attempts.values_list("failures_since_start", flat=True))
        if not failures:
            raise Refused(
                "not_locked",
                _("User %(name)s has no failed log-ins to clear.") % {"name": user.username},
                409,
            )
        attempts.delete()
        record_audit(
            actor=actor, action="staff.unlock_user", obj=user, before={"failures": failures}
        )
    return failures


def grant_role(*, actor, user: User, role: str, org: Org) -> RoleAssignment:
    _check_role_org(role, org)
    with transaction.atomic():
        if RoleAssignment.objects.filter(user=user, role=role, org=org).exists():
            raise Refused(
                "role_exists",
                _("%(user)s already is %(role)s at %(org)s.")
                % {"user": user.username, "role": Role(role).label, "org": org.name},
                409,
            )
        return assign_role(actor=actor, user=user, role=role, org=org)


def revoke_role(*, actor, assignment: RoleAssignment) -> None:
    if assignment.user_id == actor.pk:
        raise Refused("own_role", _("You cannot take away your own role."), 409)
    with transaction.atomic():
        record_audit(
            actor=actor,
            action="role.revoke",
            obj=assignment,
            org=assignment.org,
            before={
                "user": assignment.user.get_username(),
                "role": assignment.role,
                "org": assignment.org.code,
            },
        )
        assignment.delete()


# --- bulk import ---------------------------------------------------------------------------

IMPORT_HEADERS = ["username", "full name", "phone", "role", "org code"]


@dataclass
class StaffImport:
    created: list[tuple[User, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _role_from_text(text: str) -> str | None:
    text = text.strip()
    for value, label in Role.choices:
        if text in {value, str(label)}:
            return value
    return None


def import_staff(*, actor, upload, filename: str) -> StaffImport:
    """Staff from a spreadsheet: username, full name, phone, role (its Chinese name), org code.
    Every row is checked first; with any bad row nothing is created and every bad row is named.
    Otherwise each user gets a temporary password, listed once in the result."""
    result = StaffImport()
    rows = read_rows(upload, filename=filename, max_rows=MAX_IMPORT_ROWS + 1)
    header = next(rows, None)
    if header is None:
        raise Refused("empty_file", _("The file is empty."))
    wanted: list[tuple[str, str, str, str, Org]] = []
    seen: dict[str, int] = {}
    orgs = {o.code: o for o in Org.objects.all()}
    for number, row in enumerate(rows, start=2):
        if not any(row):
            continue
        cells = [*row, "", "", "", "", ""][:5]
        username, full_name, phone, role_text, org_code = (c.strip() for c in cells)
        label = _("Row %(n)s: ") % {"n": number}
        try:
            if not username:
                raise Refused("bad_username", label + _("the username is empty."))
            if username.lower() in seen:
                raise Refused(
                    "duplicate",
                    label
                    + _("username “%(name)s” is already in row %(row)s.")
                    % {"name": username, "row": seen[username.lower()]},
                )
            seen[username.lower()] = number
            _check_username(username, label)
            _check_phone(phone, label)
            role = _role_from_text(role_text)
            if role is None:
                raise Refused(
                    "bad_role",
                    label + _("role “%(role)s” does not exist.") % {"role": role_text},
                )
            org = orgs.get(org_code)
            if org is None or not has_perm(actor, "core.manage_users", org):
                raise Refused(
                    "bad_org",
                    label
                    + _("org code “%(code)s” is not a store or node you manage.")
                    % {"code": org_code},
                )
            _check_role_org(role, org, label)
        except Refused as exc:
            result.errors.append(exc.message)
            continue
        wanted.append((username, full_name, phone, role, org))
    if not wanted and not result.errors:
        raise Refused("empty_file", _("The file has no staff rows under its header."))
    if result.errors:
        return result
    with transaction.atomic():
        for username, full_name, phone, role, org in wanted:
            password = temporary_password()
            user = User.objects.create_user(
                username=username,
                password=password,
                first_name=full_name,
                phone=phone,
                must_change_password=True,
            )
            assign_role(actor=actor, user=user, role=role, org=org)
            result.created.append((user, password))
        record_audit(
            actor=actor,
            action="staff.import_users",
            object_type="core.user",
            object_repr=filename[:200],
            after={"users": [u.username for u, _p in result.created]},
        )
    return result


# --- the org tree ----------------------------------------------------------------------------

ALLOWED_PARENTS = {
    Org.Kind.REGION: {Org.Kind.GROUP, Org.Kind.REGION},
    Org.Kind.STORE: {Org.Kind.GROUP, Org.Kind.REGION},
}


def _check_parent(kind: str, parent: Org | None, name: str) -> None:
    if kind == Org.Kind.GROUP:
        raise Refused(
            "group_is_root",
            _("There is one group at the top of the tree; add a region or a store under it."),
        )
    if parent is None:
        raise Refused("parent_required", _("%(name)s needs a parent node.") % {"name": name})
    if parent.kind not in ALLOWED_PARENTS[kind]:
        raise Refused(
            "bad_parent",
            _("%(name)s cannot be placed under %(parent)s: a store has no nodes under it.")
            % {"name": name, "parent": parent.name},
        )
    if not parent.is_active:
        raise Refused(
            "parent_closed",
            _("%(parent)s is closed; nothing can be placed under it.") % {"parent": parent.name},
            409,
        )


def add_org(
    *,
    actor,
    kind: str,
    name: str,
    code: str,
    parent: Org,
    address: str = "",
    phone: str = "",
) -> Org:
    code = code.strip()
    _check_parent(kind, parent, name)
    if Org.objects.filter(code=code).exists():
        raise Refused("code_taken", _("Org code “%(code)s” is already used.") % {"code": code}, 409)
    return create_org(
        actor=actor, kind=kind, name=name, code=code, parent=parent, address=address, phone=phone
    )


def update_org(*, actor, org: Org, name: str, address: str, phone: str) -> Org:
    with transaction.atomic():
        org = Org.objects.select_for_update().get(pk=org.pk)
        before = snapshot(org, ORG_FIELDS)
        org.name, org.address, org.phone = name, address, phone
        org.save(update_fields=["name", "address", "phone"])
        record_audit(
            actor=actor,
            action="org.update",
            obj=org,
            org=org,
            before=before,
            after=snapshot(org, ORG_FIELDS),
        )
    return org


def move_org(*, actor, org: Org, parent: Org) -> Org:
    """Put a node (with everything under it) under another parent."""
    with transaction.atomic():
        # both rows locked in pk order: two moves at once cannot build a loop between them
        locked = {
            o.pk: o
            for o in Org.objects.select_for_update()
            .filter(pk__in=[org.pk, parent.pk])
            .order_by("pk")
        }
        org, parent = locked[org.pk], locked[parent.pk]
        _check_parent(org.kind, parent, org.name)
        if parent.path.startswith(org.path):
            raise Refused(
                "move_into_itself",
                _("%(name)s cannot move under %(parent)s, which lies inside it.")
                % {"name": org.name, "parent": parent.name},
            )
        if org.parent_id == parent.pk:
            raise Refused(
                "no_change",
                _("%(name)s already is under %(parent)s.")
                % {"name": org.name, "parent": parent.name},
                409,
            )
        before = snapshot(org, ORG_FIELDS)
        org.parent = parent
        org.save()
        record_audit(
            actor=actor,
            action="org.move",
            obj=org,
            org=org,
            before=before,
            after=snapshot(org, ORG_FIELDS),
        )
    return org


def set_store_open(*, actor, org: Org, open: bool) -> Org:
    """Close a store (its staff's roles there stop working, it leaves the store lists) or open it
    again."""
    with transaction.atomic():
        org = Org.objects.select_for_update().get(pk=org.pk)
        if not org.is_store:
            raise Refused(
                "not_a_store",
                _("%(name)s is not a store; only stores are closed.") % {"name": org.name},
            )
        if org.is_active == open:
            message = _("%(name)s is already open.") if open else _("%(name)s is already closed.")
            raise Refused("no_change", message % {"name": org.name}, 409)
        before = snapshot(org, ORG_FIELDS)
        org.is_active = open
        org.save(update_fields=["is_active"])
        record_audit(
            actor=actor,
            action="org.reopen" if open else "org.close",
            obj=org,
            org=org,
            before=before,
            after=snapshot(org, ORG_FIELDS),
        )
    return org
