"""Response headers every dynamic page shares."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control


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


class PasswordChangeRequiredMiddleware:
    """A user logged in with a temporary password (an administrator created the account or reset
    its password) reaches nothing but the password change until they have chosen their own; the
    log-out and static files stay open. The signed API has no sessions and is not concerned."""

    OPEN_PREFIXES = ("/static/", "/api/", "/logout/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(self.OPEN_PREFIXES)
            and request.path != reverse("core:password_change")
        ):
            return redirect("core:password_change")
        return self.get_response(request)
