"""Idempotency-Key on writes: the same key and body get the first answer; another body, 409."""

import hashlib
import json
from functools import wraps

from django.db import IntegrityError, connection, transaction
from django.http import JsonResponse

from api.errors import ApiError
from api.models import IdempotencyRecord


def _respond(status: int, body) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def idempotent(view):
    """Wrap a write handler that returns a JSON-able body or (status, body)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            return _run(view, request, args, kwargs)
        if len(key) > 100:
            raise ApiError("invalid_idempotency_key", "Idempotency-Key 长度不能超过100个字符")
        client = request.auth
        body_hash = hashlib.sha256(request.body).hexdigest()
        try:
            record = _claim(client, key, body_hash)
        except IntegrityError:
            first = IdempotencyRecord.objects.get(client=client, key=key)
            if first.request_hash != body_hash:
                raise ApiError(
                    "idempotency_key_conflict", "同一 Idempotency-Key 已用于不同的请求内容", 409
                ) from None
            if first.status_code == 0:
                raise ApiError(
                    "idempotency_in_progress", "相同 Idempotency-Key 的请求正在处理中", 409
                ) from None
            return _respond(first.status_code, first.response_body)
        try:
            response = _run(view, request, args, kwargs)
        except Exception:
            record.delete()
            raise
        record.status_code = response.status_code
        record.response_body = json.loads(response.content)
        record.save(update_fields=["status_code", "response_body"])
        return response

    return wrapper


def _claim(client, key: str, body_hash: str) -> IdempotencyRecord:
    """The "in progress" record, committed before the handler runs (so a concurrent retry sees
    it); IntegrityError when the key is taken. Outside a transaction the lone INSERT commits by
    itself: an atomic block would only add a BEGIN and a COMMIT round trip."""
    if not connection.in_atomic_block:
        return IdempotencyRecord.objects.create(client=client, key=key, request_hash=body_hash)
    with transaction.atomic():
        return IdempotencyRecord.objects.create(client=client, key=key, request_hash=body_hash)


def _run(view, request, args, kwargs) -> JsonResponse:
    try:
        result = view(request, *args, **kwargs)
    except ApiError as exc:
        return _respond(exc.status, exc.body())
    if isinstance(result, JsonResponse):
        return result
    status, body = result if isinstance(result, tuple) else (200, result)
    return _respond(status, body)
