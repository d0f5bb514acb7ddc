from django.urls import path

from promocodes import views

app_name = "promocodes"
urlpatterns = [
    path("", views.application_list, name="applications"),
    path("new/", views.application_create, name="create"),
    path("submit/", views.submit_batch, name="submit_batch"),
    path("review/", views.review_list, name="review"),
    path("review/decide/", views.review_batch, name="review_batch"),
    path("<int:pk>/", views.application_detail, name="detail"),
    path("<int:pk>/print/", views.application_print, name="print"),
    path("<int:pk>/change/", views.application_change, name="change"),
    path(
        "<int:pk>/<str:action>/",
        views.application_action,
        name="action",
    ),
    path("channels/", views.channel_list, name="channels"),
    path("channels/<int:pk>/<str:action>/", views.channel_status, name="channel_status"),
    path("budgets/", views.budgets, name="budgets"),
    path("limits/", views.finance_limits, name="finance_limits"),
]
