"""Response headers every dynamic page shares."""

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
