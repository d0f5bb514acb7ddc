"""The request signature of the signed API (product.md §10), shared by the server and by clients."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from couponhub.core.errors import Refused


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


CLOCK_WINDOW_SECONDS = 300
MAX_NONCE_LENGTH = 64


@dataclass(frozen=True)
class SignedHeaders:
    signer: str  # the caller's public id: an API client's X-Client-Id, a shop's X-Shop-Id
    timestamp: str
    nonce: str
    signature: str

    def signed_by(self, secret: str, request) -> bool:
        expected = sign(
            secret,
            request.method,
            request.get_full_path(),
            self.timestamp,
            self.nonce,
            request.body,
        )
        return hmac.compare_digest(expected, self.signature)


def read_signed_headers(request, signer_header: str) -> SignedHeaders:
    """The signature headers of a request, refused when missing, stale or malformed."""
    headers = request.headers
    signed = SignedHeaders(
        signer=headers.get(signer_header, ""),
        timestamp=headers.get("X-Timestamp", ""),
        nonce=headers.get("X-Nonce", ""),
        signature=headers.get("X-Signature", "").lower(),
    )
    if not (signed.signer and signed.timestamp and signed.nonce and signed.signature):
        raise Refused(
            "missing_signature",
            f"缺少签名请求头（{signer_header}、X-Timestamp、X-Nonce、X-Signature）",
            401,
        )
    timestamp = signed.timestamp
    # ASCII digits only, and few of them: str.isdigit() also takes "²", which int() refuses
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or (
        abs(time.time() - int(timestamp)) > CLOCK_WINDOW_SECONDS
    ):
        raise Refused("timestamp_out_of_window", "请求时间戳与服务器时间相差超过300秒", 401)
    if len(signed.nonce) > MAX_NONCE_LENGTH:
        raise Refused("invalid_nonce", f"X-Nonce 长度不能超过{MAX_NONCE_LENGTH}个字符", 401)
    return signed


def refuse_nul(request) -> None:
    """No text column can hold a NUL character (PostgreSQL refuses it): a path or query that
    carries one is turned away at the door (the body is checked field by field when parsed)."""
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        raise Refused("invalid_request", "请求地址中不能包含空字符（NUL）", 400)


NONCE_TTL = timedelta(minutes=10)


def claim_nonce(nonce_model, **row) -> bool:
    """True the first time a signer uses a nonce: one row under the model's unique constraint
    on (signer, nonce). A nonce used again within NONCE_TTL finds its row."""
    try:
        with transaction.atomic():
            nonce_model.objects.create(**row)
    except IntegrityError:
        return False
    return True


def purge_old_nonces(nonce_model, now=None) -> int:
    """Rows older than NONCE_TTL: their requests are outside the clock window anyway."""
    now = now or timezone.now()
    deleted, _ = nonce_model.objects.filter(created_at__lt=now - NONCE_TTL).delete()
    return deleted
