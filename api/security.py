"""Signed requests: X-Client-Id, X-Timestamp (±300 s), X-Nonce (once per 10 minutes),
X-Signature = hex HMAC-SHA256(secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY))."""

import hmac
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from ninja.security import APIKeyHeader

from api.errors import ApiError
from api.models import ApiClient, ApiNonce
from api.signing import sign

CLOCK_WINDOW_SECONDS = 300
NONCE_TTL = timedelta(minutes=10)


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(code, message, status=401)


def verify_request(request) -> ApiClient:
    headers = request.headers
    client_id = headers.get("X-Client-Id", "")
    timestamp = headers.get("X-Timestamp", "")
    nonce = headers.get("X-Nonce", "")
    signature = headers.get("X-Signature", "")
    if not (client_id and timestamp and nonce and signature):
        raise _unauthorized(
            "missing_signature", "缺少签名请求头（X-Client-Id、X-Timestamp、X-Nonce、X-Signature）"
        )
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > CLOCK_WINDOW_SECONDS:
        raise _unauthorized("timestamp_out_of_window", "请求时间戳与服务器时间相差超过300秒")
    if len(nonce) > 64:
        raise _unauthorized("invalid_nonce", "X-Nonce 长度不能超过64个字符")
    client = ApiClient.objects.select_related("store").filter(client_id=client_id).first()
    if client is None or not client.is_active:
        raise _unauthorized("invalid_client", "客户端不存在或已停用")
    expected = sign(
        client.secret, request.method, request.get_full_path(), timestamp, nonce, request.body
    )
    if not hmac.compare_digest(expected, signature.lower()):
        raise _unauthorized("invalid_signature", "签名校验失败")
    if not _claim_nonce(client, nonce):
        raise _unauthorized("nonce_reused", "X-Nonce 已使用过，请勿重放请求")
    # No text column can hold a NUL character (PostgreSQL refuses it): turn it away at the door.
    if (
        "\x00" in request.path
        or "%00" in request.META.get("QUERY_STRING", "")
        or b"\\u0000" in request.body
        or b"\x00" in request.body
    ):
        raise ApiError("invalid_request", "请求中不能包含空字符（NUL）", 400)
    return client


def _claim_nonce(client: ApiClient, nonce: str) -> bool:
    """True the first time this client uses this nonce within NONCE_TTL."""
    if settings.REDIS_URL:
        # A shared Redis: SET NX with a TTL is atomic and spares a database commit per call.
        return cache.add(f"api-nonce:{client.client_id}:{nonce}", 1, NONCE_TTL.total_seconds())
    try:
        with transaction.atomic():
            ApiNonce.objects.create(client=client, nonce=nonce)
    except IntegrityError:
        return False
    return True


def purge_old_nonces(now=None) -> int:
    now = now or timezone.now()
    deleted, _ = ApiNonce.objects.filter(created_at__lt=now - NONCE_TTL).delete()
    return deleted


class SignedRequest(APIKeyHeader):
    """django-ninja auth: the whole signature is checked; request.auth is the ApiClient."""

    param_name = "X-Client-Id"

    def authenticate(self, request, key):
        return verify_request(request)
