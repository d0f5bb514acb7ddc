"""The signed JSON API v1: each app contributes a django-ninja `router` in its api.py."""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api.input import CheckedJsonParser, schema_error_message
from api.security import SignedRequest
from couponhub.core.discovery import app_modules
from couponhub.core.errors import Refused
from couponhub.core.metrics import count_refusal

API_APPS = ["products", "members", "coupons", "redemption", "pickup", "promocodes"]

api = NinjaAPI(
    title="CouponHub API",
    version="1.0.0",
    description=(
        "Signed JSON API for POS systems, shops and mini-programs. Every request carries "
        "X-Client-Id, X-Timestamp (unix seconds, ±300 s), X-Nonce (unique per client for 10 "
        "minutes) and X-Signature = lower-case hex HMAC-SHA256(secret, "
        "METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)), PATH with its query string. "
        "Writes take an Idempotency-Key header. Errors: HTTP 4xx with "
        '{"error": {"code": "...", "message": "..."}}.'
    ),
    urls_namespace="api-v1",
    auth=SignedRequest(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=CheckedJsonParser(),
)


def _error(request, code: str, message: str, status: int):
    return api.create_response(
        request, {"error": {"code": code, "message": message}}, status=status
    )


@api.exception_handler(Refused)
def on_api_error(request, exc: Refused):
    count_refusal(exc.code, "api")
    return _error(request, exc.code, exc.message, exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    return _error(request, "invalid_request", schema_error_message(exc.errors), 422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, "unauthorized", "未通过签名认证", 401)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, "not_found", "资源不存在", 404)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, Refused):  # the body parser's refusal, wrapped by ninja
        return on_api_error(request, exc.__cause__)
    return _error(request, "bad_request", "请求不正确", exc.status_code)


@api.get("/ping", tags=["system"], summary="Signed no-op: checks the signature and answers")
def ping(request):
    return {"ok": True, "client": request.auth.client_id, "store_code": request.auth.store.code}


for _module in app_modules("api", API_APPS):
    api.add_router("/", _module.router)
