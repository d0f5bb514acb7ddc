"""Idempotency-Key on API writes: the same key and body get the first answer; another body, 409.

Put `@idempotent` below the router decorator. The handler returns a body or `(status, body)`
as any handler does, so django-ninja validates it against the operation's response models; the
answer is stored after ninja has rendered it (a refusal's error body included), so a retry gets
exactly what the first call got. A handler that fails on a bug leaves no record: the retry runs.
"""

import hashlib
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from ninja.decorators import decorate_view

from couponhub.core.errors import Refused
from couponhub.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 100
# Far longer than any request may run (the web server stops a request after 30 s).
ABANDONED_AFTER = timedelta(minutes=2)
JSON = "application/json; charset=utf-8"


def idempotent(handler):
    @wraps(handler)
    def claim_then_handle(request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            return handler(request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise Refused(
                "invalid_idempotency_key", f"Idempotency-Key 长度不能超过{MAX_KEY_LENGTH}个字符"
            )
        body_hash = hashlib.sha256(request.body).hexdigest()
        record = _claim(request.auth.client_key, key, body_hash)
        if isinstance(record, HttpResponse):
            return record
        request.idempotency_record = record
        try:
            return handler(request, *args, **kwargs)
        except Refused:
            raise  # rendered by the API's handler, then stored by _store_answer
        except Exception:
            record.delete()
            raise

    return decorate_view(_store_answer)(claim_then_handle)


def _claim(client_key: str, key: str, body_hash: str) -> IdempotencyRecord | HttpResponse:
    """The "in progress" record, committed before the handler runs (so a concurrent retry sees
    it), or the first call's answer to replay."""
    for _attempt in range(2):
        try:
            return _insert(client_key=client_key, key=key, request_hash=body_hash)
        except IntegrityError:
            first = IdempotencyRecord.objects.filter(client_key=client_key, key=key).first()
        if first is None:
            continue  # released meanwhile: claim it now
        if first.request_hash != body_hash:
            raise Refused(
                "idempotency_key_conflict", "同一 Idempotency-Key 已用于不同的请求内容", 409
            )
        if first.status_code:
            return HttpResponse(first.response, status=first.status_code, content_type=JSON)
        if not _release(first):
            break
    raise Refused(
        "idempotency_in_progress", "相同 Idempotency-Key 的请求正在处理中，请稍后重试", 409
    )


def _insert(**fields) -> IdempotencyRecord:
    if transaction.get_connection().in_atomic_block:
        # inside a caller's transaction: a savepoint keeps it usable after a clash
        with transaction.atomic():
            return IdempotencyRecord.objects.create(**fields)
    # a request's autocommit: the INSERT is its own transaction, committed in one round trip
    # (BEGIN and COMMIT around it would be two more)
    return IdempotencyRecord.objects.create(**fields)


def _release(record: IdempotencyRecord) -> bool:
    """A call still "in progress" long after any request may run died before it answered (a
    killed worker): its key is freed for the retry. Its effect, if it committed one, is kept
    by the business rules (an order number is stored once, a used coupon is not used again),
    so the retry gets a clear answer and nothing happens twice."""
    abandoned_before = timezone.now() - ABANDONED_AFTER
    deleted, _ = IdempotencyRecord.objects.filter(
        pk=record.pk, status_code=0, created_at__lt=abandoned_before
    ).delete()
    return bool(deleted)


def _store_answer(run):
    """Wraps ninja's whole operation: sees the rendered, schema-validated response."""

    @wraps(run)
    def run_and_store(request, *args, **kwargs):
        response = run(request, *args, **kwargs)
        record = getattr(request, "idempotency_record", None)
        if record is not None:
            if response.status_code >= 500:
                record.delete()
            else:
                record.status_code = response.status_code
                record.response = response.content.decode()
                record.save(update_fields=["status_code", "response"])
        return response

    return run_and_store
