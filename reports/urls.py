from django.urls import path
from django.views.generic import RedirectView

from reports import views

app_name = "reports"
urlpatterns = [
    path("u-value-coupons/", views.u_value_detail, name="u_value_detail"),
    path(
        "summaries/",
        RedirectView.as_view(pattern_name="reports:summary", permanent=False),
        {"name": "redemptions"},
        name="summary_home",
    ),
    path("summaries/<slug:name>/", views.summary, name="summary"),
    path("export/<slug:report>/", views.export, name="export"),
]
