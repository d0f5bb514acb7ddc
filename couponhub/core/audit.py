"""The audit log: every back-office write records one entry inside its own transaction."""

import datetime
import decimal
import uuid
from functools import cache

from django.apps import apps
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from couponhub.core.discovery import app_modules
from couponhub.core.logs import current_request_id
from couponhub.core.models import AuditEntry, Org

OUR_APPS = (
    "core",
    "products",
    "members",
    "coupons",
    "redemption",
    "pickup",
    "promocodes",
    "reports",
    "api",
)


@cache
def action_labels() -> dict[str, str]:
    """Every audit action code and what people call it: each app declares its own in its
    audit_actions.py (ACTIONS), found like its nav.py."""
    labels: dict[str, str] = {}
    for module in app_modules("audit_actions"):
        labels.update(module.ACTIONS)
    return labels


@cache
def snapshot_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for module in app_modules("audit_actions"):
        labels.update(getattr(module, "SNAPSHOT_LABELS", {}))
    return labels


def action_label(code: str) -> str:
    """`pickup.order.create` → 新建提货订单; a code no app declares reads 其他操作, never the code
    (tests/core/test_audit_labels.py keeps every code the services write declared)."""
    return str(action_labels().get(code) or _("other action"))


def action_choices(prefix: str = "") -> list[tuple[str, str]]:
    """(code, 中文) of every declared action, or of those whose code starts with `prefix`."""
    return sorted(
        ((code, str(label)) for code, label in action_labels().items() if code.startswith(prefix)),
        key=lambda c: c[1],
    )


def object_type_label(object_type: str) -> str:
    """`pickup.pickuporder` → 提货订单: the model's own verbose name."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return str(_("other record")) if object_type else ""
    return str(model._meta.verbose_name)


def object_type_choices(app_label: str = "") -> list[tuple[str, str]]:
    """(app.model, 中文) of our models, or of one app's."""
    return sorted(
        (
            (model._meta.label_lower, str(model._meta.verbose_name))
            for model in apps.get_models()
            if model._meta.app_label in OUR_APPS
            and (not app_label or model._meta.app_label == app_label)
        ),
        key=lambda c: c[1],
    )


def _shown(field, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        labels = snapshot_labels()
        return "；".join(f"{labels.get(k, k)}：{_shown(None, v)}" for k, v in value.items())
    return str(value)


def describe_changes(object_type: str, before: dict | None, after: dict | None) -> list[tuple]:
    """[(field label, before, after)] of an entry's snapshots, in people's words: a field's
    verbose name instead of `card_type_id`, a choice's label instead of `approved`."""
    try:
        fields = {}
        for field in apps.get_model(object_type)._meta.concrete_fields:
            fields[field.name] = fields[field.attname] = field
    except (LookupError, ValueError):
        fields = {}
    before, after = before or {}, after or {}
    rows = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        field = fields.get(key)
        label = str(field.verbose_name) if field is not None else ""
        if not label or label.isascii():
            name = field.name if field is not None else key
            label = str(snapshot_labels().get(name, label or key))
        shown_old, shown_new = _shown(field, old), _shown(field, new)
        if shown_old != shown_new:
            rows.append((label, shown_old, shown_new))
    return rows


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict:
    """The field values of a model instance, for the before/after of an entry."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return _jsonable({name: getattr(obj, name) for name in names})


def record_audit(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    org: Org | None = None,
    note: str = "",
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEntry:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_name=(actor.get_username() if is_user else str(actor or "系统"))[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        org=org,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        note=note,
        request_id=current_request_id(),
    )
