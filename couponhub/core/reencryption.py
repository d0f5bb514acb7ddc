"""Rewriting every stored secret under the newest FIELD_ENCRYPTION_KEY (after a key rotation, or
to move tokens written before the AES-CCM format onto it)."""

from collections.abc import Callable, Iterator

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models.functions import Cast

from couponhub.core.audit import record_audit
from couponhub.core.crypto import EncryptedTextField, UnreadableSecret, reencrypt


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def reencrypt_secrets(
    *,
    actor=None,
    dry_run: bool = False,
    chunk_size: int = 5_000,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Rewrite each encrypted value not yet under the newest key; return, per column
    ("app.Model.field"), how many were rewritten and how many no configured key opens (left as
    they are). Each chunk is its own transaction, so a run stopped midway leaves every value
    readable and a second run finishes the rest; one audit entry per column."""
    quote = connection.ops.quote_name
    counts = {}
    for model, field in encrypted_fields():
        label = f"{model._meta.label}.{field.name}"
        table, column = quote(model._meta.db_table), quote(field.column)
        pk = quote(model._meta.pk.column)
        rows = model._base_manager.order_by("pk").annotate(
            stored_token=Cast(field.attname, models.TextField())
        )
        changed = seen = unreadable = 0
        after = None
        while True:
            chunk = rows if after is None else rows.filter(pk__gt=after)
            pairs = list(chunk.values_list("pk", "stored_token")[:chunk_size])
            if not pairs:
                break
            after = pairs[-1][0]
            updates = []
            for key, old in pairs:
                try:
                    token = reencrypt(old)
                except UnreadableSecret:
                    unreadable += 1
                    continue
                if token is not None:
                    updates.append((token, key, old))
            if updates and not dry_run:
                with transaction.atomic(), connection.cursor() as cursor:
                    # Raw SQL: the tokens are written as they are, not encrypted again; a value
                    # changed since it was read keeps its change (it is under the newest key).
                    cursor.executemany(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",
                        updates,
                    )
            changed += len(updates)
            seen += len(pairs)
            if progress is not None:
                progress(label, seen, changed)
        counts[label] = {"rewritten": changed, "unreadable": unreadable}
        if changed and not dry_run:
            record_audit(
                actor=actor,
                action="core.secrets.reencrypt",
                object_type=label,
                after={"rows": seen, "rewritten": changed, "unreadable": unreadable},
            )
    return counts
