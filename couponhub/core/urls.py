from django.urls import path

from couponhub.core import event_views, views

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
    path("events/subscribers/", event_views.subscriber_list, name="event_subscribers"),
    path("events/subscribers/<int:pk>/", event_views.subscriber_edit, name="event_subscriber_edit"),
    path("events/deliveries/", event_views.delivery_list, name="event_deliveries"),
    path("events/deliveries/<int:pk>/", event_views.delivery_detail, name="event_delivery"),
    path(
        "events/deliveries/<int:pk>/resend/",
        event_views.delivery_resend,
        name="event_delivery_resend",
    ),
]
