from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("u-value-coupons/", views.u_value_detail, name="u_value_detail"),
    path("export/<slug:report>/", views.export, name="export"),
]
