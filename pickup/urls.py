from django.urls import path

from pickup.views import catalogue, codes, consumer, orders, red_packets, system, transfers

app_name = "pickup"
urlpatterns = [
    path("", codes.code_list, name="code_list"),
    path("settings/", system.settings_page, name="settings"),
    path("sms/", system.sms_page, name="sms"),
    path("log/", system.operation_log, name="operation_log"),
    path("codes/<int:pk>/", codes.code_detail, name="code_detail"),
    path("codes/<int:pk>/qr.<str:fmt>", codes.code_qr, name="code_qr"),
    path("codes/generate/", codes.generate, name="generate"),
    path("codes/batch/", codes.batch_action, name="batch_action"),
    path("codes/import/", transfers.import_codes, name="import"),
    path("codes/import/<int:pk>/<str:which>/", transfers.import_file, name="import_file"),
    path("codes/export/", transfers.export_codes, name="export"),
    # consumer pages (public)
    path("c/", consumer.consumer_start, name="consumer_start"),
    path("c/card/", consumer.consumer_card, name="consumer_card"),
    path("c/lookup/", consumer.consumer_lookup, name="consumer_lookup"),
    path("c/order/<str:order_no>/", consumer.consumer_order, name="consumer_order"),
    path(
        "c/order/<str:order_no>/red-packet/",
        consumer.consumer_claim,
        name="consumer_claim",
    ),
    path("c/<str:code>/", consumer.consumer_start, name="consumer_code"),
    # orders
    path("orders/online/", orders.online_orders, name="online_orders"),
    path("orders/store/", orders.store_orders, name="store_orders"),
    path("orders/store/verify/", orders.store_order_verify, name="store_order_verify"),
    path("orders/store/<int:pk>/", orders.store_order_detail, name="store_order_detail"),
    path("orders/recycle/", orders.recycle_bin, name="recycle_bin"),
    path("orders/<str:kind>/batch/", orders.orders_batch, name="orders_batch"),
    path("orders/<int:pk>/", orders.order_detail, name="order_detail"),
    path("orders/<int:pk>/<str:action>/", orders.order_action, name="order_action"),
    # red packets
    path("red-packets/", red_packets.red_packet_list, name="red_packet_list"),
    path("red-packets/settings/", red_packets.red_packet_settings, name="red_packet_settings"),
    path("red-packets/account/", red_packets.red_packet_account, name="red_packet_account"),
    path("red-packets/generate/", red_packets.red_packet_generate, name="red_packet_generate"),
    path("red-packets/claims/", red_packets.red_packet_claims, name="red_packet_claims"),
    *[
        path(f"m/{name}/", catalogue.entity_list, {"entity": name}, name=f"{name}_list")
        for name in catalogue.ENTITIES
    ],
    path("m/<str:entity>/", catalogue.entity_list, name="entity_list"),
    path("m/<str:entity>/add/", catalogue.entity_edit, name="entity_add"),
    path("m/<str:entity>/<int:pk>/", catalogue.entity_edit, name="entity_edit"),
    path("m/<str:entity>/<int:pk>/delete/", catalogue.entity_delete, name="entity_delete"),
    path("m/<str:entity>/<int:pk>/copy/", catalogue.entity_copy, name="entity_copy"),
]
