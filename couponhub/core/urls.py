from django.urls import path

from couponhub.core import views

app_name = "core"
urlpatterns = [
    path("password/", views.password_change, name="password_change"),
    path("search/", views.search, name="search"),
    path("switch-store/", views.switch_store, name="switch_store"),
    path("audit/", views.audit_log, name="audit_log"),
    path("downloads/", views.downloads, name="downloads"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/status/", views.job_status, name="job_status"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
    path("jobs/<int:pk>/rerun/", views.job_rerun, name="job_rerun"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("sms/", views.sms_account, name="sms_account"),
]
