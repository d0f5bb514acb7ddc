"""The API's error body for the answers django-ninja and Django's URL resolver give themselves."""

from django.conf import settings
from django.http import JsonResponse

API_PREFIX = "/api/v1/"
_ANSWERS = {
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "该接口不支持此请求方法"),
}


class ApiErrorBodyMiddleware:
    """Under /api/v1/, a 404 for an unknown path or a 405 for a method an endpoint lacks comes
    back as {"error": {"code", "message"}} like every other API error (§10), not as Django's
    HTML or plain text; a 405 keeps its Allow header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) and _too_large(request):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
            return JsonResponse(
                {"error": {"code": "body_too_large", "message": f"请求体过大（最多{limit} KB）"}},
                status=413,
            )
        response = self.get_response(request)
        answer = _ANSWERS.get(response.status_code)
        if (
            answer is None
            or not request.path.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        code, message = answer
        body = JsonResponse(
            {"error": {"code": code, "message": message}}, status=response.status_code
        )
        if response.has_header("Allow"):
            body["Allow"] = response["Allow"]
        return body


def _too_large(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
