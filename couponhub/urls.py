from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from api.main import api as signed_api
from couponhub import metrics  # noqa: F401  (registers the apps' figures on /metrics)
from couponhub.core import health
from couponhub.core import metrics as core_metrics
from couponhub.core import views as core_views

urlpatterns = [
    # First: the signed API's calls are the most frequent, and every pattern tried before a match
    # costs (an include at "" is searched whole, ~0.2 ms a call). No page lives under api/v1/.
    path("api/v1/", signed_api.urls),
    # for load balancers and Prometheus: no login; /metrics checks the network or a token
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", core_metrics.metrics_view, name="metrics"),
    path("", core_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("couponhub.core.urls")),
    # the counter's lookup moved to the redemption app; clerks' bookmarks keep working
    path(
        "members/lookup/",
        RedirectView.as_view(pattern_name="redemption:lookup", permanent=True, query_string=True),
    ),
    path("members/", include("members.urls")),
    path("products/", include("products.urls")),
    path("coupons/", include("coupons.urls")),
    path("redemption/", include("redemption.urls")),
    path("pickup/", include("pickup.urls")),
    path("promocodes/", include("promocodes.urls")),
    path("reports/", include("reports.urls")),
    path("staff/", include("staff.urls")),
    path("messages/", include("messaging.urls")),
    path("api/", include("api.urls")),
    path("django-admin/", admin.site.urls),
    path("media/public/<path:path>", core_views.public_media, name="public_media"),
    path("favicon.ico", core_views.favicon),
]
