from django.urls import path

from coupons import views

app_name = "coupons"
urlpatterns = [
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/review/", views.rule_review, name="rule_review"),
    path("rules/review/decide/", views.rule_review_batch, name="rule_review_batch"),
    path("rules/<int:pk>/", views.rule_detail, name="rule_detail"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/copy/", views.rule_copy, name="rule_copy"),
    path("rules/<int:pk>/generate/", views.rule_generate, name="rule_generate"),
    path("rules/<int:pk>/coupons/", views.rule_coupons, name="rule_coupons"),
    path("rules/<int:pk>/print/", views.rule_print, name="rule_print"),
    path("rules/<int:pk>/gift/", views.rule_gift, name="rule_gift"),
    path("rules/<int:pk>/<slug:action>/", views.rule_action, name="rule_action"),
    path("", views.coupon_list, name="coupon_list"),
    path("activation/", views.activation, name="activation"),
    path("<int:pk>/<slug:action>/", views.coupon_action, name="coupon_action"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_edit, name="campaign_edit"),
]
