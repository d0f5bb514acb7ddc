from django.urls import path

from redemption import member_views, outside_views, views

app_name = "redemption"
urlpatterns = [
    path("lookup/", views.lookup, name="lookup"),
    path("start/", views.start, name="start"),
    path("recharge/", views.recharge, name="recharge"),
    path("verify/<int:pk>/", views.verify, name="verify"),
    path("<int:pk>/link/", views.link, name="link"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("records/", views.records, name="records"),
    path("members/<int:pk>/", member_views.member_detail, name="member_detail"),
    path("members/<int:pk>/<slug:action>/", member_views.member_action, name="member_action"),
    path("lines/<int:pk>/return/", views.return_line, name="return_line"),
    path("outside/shops/", outside_views.shops, name="outside_shops"),
    path("outside/shops/<int:pk>/unbind/", outside_views.unbind, name="outside_unbind"),
    path("outside/activities/", outside_views.activities, name="outside_activities"),
    path(
        "outside/activities/<int:pk>/edit/",
        outside_views.activity_edit,
        name="outside_activity_edit",
    ),
    path("outside/mappings/", outside_views.mappings, name="outside_mappings"),
    path("outside/till/", outside_views.till, name="outside_till"),
    path("outside/archive/", outside_views.archive, name="outside_archive"),
    path("outside/archive/<int:pk>/", outside_views.coupon_detail, name="outside_coupon"),
    path("outside/till/<int:pk>/return/", outside_views.till_return, name="outside_return"),
]
