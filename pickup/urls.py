from django.urls import path

from pickup import consumer_views, order_views, views

app_name = "pickup"
urlpatterns = [
    path("", views.code_list, name="code_list"),
    path("settings/", views.settings_page, name="settings"),
    path("sms/", views.sms_page, name="sms"),
    path("log/", views.operation_log, name="operation_log"),
    path("codes/<int:pk>/", views.code_detail, name="code_detail"),
    path("codes/<int:pk>/qr.<str:fmt>", views.code_qr, name="code_qr"),
    path("codes/generate/", views.generate, name="generate"),
    path("codes/batch/", views.batch_action, name="batch_action"),
    path("codes/import/", views.import_codes, name="import"),
    path("codes/import/<int:pk>/<str:which>/", views.import_file, name="import_file"),
    path("codes/export/", views.export_codes, name="export"),
    # consumer pages (public)
    path("c/", consumer_views.consumer_start, name="consumer_start"),
    path("c/card/", consumer_views.consumer_card, name="consumer_card"),
    path("c/lookup/", consumer_views.consumer_lookup, name="consumer_lookup"),
    path("c/order/<str:order_no>/", consumer_views.consumer_order, name="consumer_order"),
    path(
        "c/order/<str:order_no>/red-packet/",
        consumer_views.consumer_claim,
        name="consumer_claim",
    ),
    path("c/<str:code>/", consumer_views.consumer_start, name="consumer_code"),
    # orders
    path("orders/online/", order_views.online_orders, name="online_orders"),
    path("orders/store/", order_views.store_orders, name="store_orders"),
    path("orders/store/verify/", order_views.store_order_verify, name="store_order_verify"),
    path("orders/store/<int:pk>/", order_views.store_order_detail, name="store_order_detail"),
    path("orders/recycle/", order_views.recycle_bin, name="recycle_bin"),
    path("orders/<str:kind>/batch/", order_views.orders_batch, name="orders_batch"),
    path("orders/<int:pk>/", order_views.order_detail, name="order_detail"),
    path("orders/<int:pk>/<str:action>/", order_views.order_action, name="order_action"),
    # red packets
    path("red-packets/", order_views.red_packet_list, name="red_packet_list"),
    path("red-packets/settings/", order_views.red_packet_settings, name="red_packet_settings"),
    path("red-packets/account/", order_views.red_packet_account, name="red_packet_account"),
    path("red-packets/generate/", order_views.red_packet_generate, name="red_packet_generate"),
    path("red-packets/claims/", order_views.red_packet_claims, name="red_packet_claims"),
    *[
        path(f"m/{name}/", views.entity_list, {"entity": name}, name=f"{name}_list")
        for name in views.ENTITIES
    ],
    path("m/<str:entity>/", views.entity_list, name="entity_list"),
    path("m/<str:entity>/add/", views.entity_edit, name="entity_add"),
    path("m/<str:entity>/<int:pk>/", views.entity_edit, name="entity_edit"),
    path("m/<str:entity>/<int:pk>/delete/", views.entity_delete, name="entity_delete"),
    path("m/<str:entity>/<int:pk>/copy/", views.entity_copy, name="entity_copy"),
]
