"""Response headers every dynamic page shares; the request's id, count and access line."""

import logging
import time

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

from couponhub.core import logs, metrics

access_log = logging.getLogger("couponhub.request")


class PrivateNoStoreMiddleware:
    """Pages here show members' phone numbers, orders and codes: no browser or proxy may keep a
    copy. Every response that passes through Django (static files are answered before it by
    WhiteNoise) says ``Cache-Control: private, no-store`` unless the view chose its own
    Cache-Control (e.g. the login page's never_cache)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class RequestContextMiddleware:
    """First in the chain: gives the request its id (the caller's X-Request-ID when sane),
    answers with it, counts the request for /metrics by its route pattern, and writes one access
    line per request: method, route, status and time, never the path's query string (a phone
    number looked up at the counter travels there)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = logs.request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = logs.set_request_id(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            seconds = time.monotonic() - started
            match = getattr(request, "resolver_match", None)
            route = ("/" + match.route) if match and match.route else "<unmatched>"
            metrics.count_request(route, request.method, response.status_code, seconds)
            access_log.info(
                "%s %s %s %.0f ms",
                request.method,
                route,
                response.status_code,
                seconds * 1000,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            return response
        finally:
            logs.reset_request_id(token)


class PasswordChangeRequiredMiddleware:
    """A user logged in with a temporary password (an administrator created the account or reset
    its password) reaches nothing but the password change until they have chosen their own; the
    log-out, static files and the one-time password link (it sets a password too) stay open. The
    signed API has no sessions and is not concerned."""

    OPEN_PREFIXES = ("/static/", "/api/", "/logout/", "/staff/password-link/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.OPEN_PREFIXES):  # before `user`: no session read
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and request.path != reverse("core:password_change")
        ):
            return redirect("core:password_change")
        return self.get_response(request)
