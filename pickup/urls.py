from django.urls import path, re_path

from pickup.views import (
    activation,
    catalogue,
    codes,
    consumer,
    orders,
    payments,
    red_packets,
    system,
    transfers,
)


def catalogue_urls(
    entity: str, *, list_view, create_view, update_view, delete_view, copy_view=None
) -> list:
    """One catalogue model's pages under m/<entity>/. Their names are shared by every model and
    take the entity first ({% url 'pickup:entity_edit' "product" 3 %}, as the shared templates
    do), so each pattern captures its own entity as a literal; the list also has a name of its
    own (pickup:product_list)."""
    e = rf"^m/(?P<entity>{entity})"
    patterns = [
        path(f"m/{entity}/", list_view, name=f"{entity}_list"),
        re_path(rf"{e}/$", list_view, name="entity_list"),
        re_path(rf"{e}/add/$", create_view, name="entity_add"),
        re_path(rf"{e}/(?P<pk>[0-9]+)/$", update_view, name="entity_edit"),
        re_path(rf"{e}/(?P<pk>[0-9]+)/delete/$", delete_view, name="entity_delete"),
    ]
    if copy_view is not None:
        patterns.append(re_path(rf"{e}/(?P<pk>[0-9]+)/copy/$", copy_view, name="entity_copy"))
    return patterns


app_name = "pickup"
TRADE_NO = r"(?P<out_trade_no>[A-Za-z0-9_-]{6,32})"

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
    path("codes/print/", transfers.print_cards, name="print_cards"),
    path("codes/activation/", activation.activation, name="activation"),
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
    # top-ups paid online
    path("top-up/<str:purpose>/", payments.top_up, name="top_up"),
    path("payments/notify/", payments.payment_notify, name="payment_notify"),
    # an out_trade_no is 6-32 letters, digits, - or _ (WeChat Pay's rule): nothing else is looked up
    re_path(rf"^payments/{TRADE_NO}/$", payments.payment_detail, name="payment_detail"),
    re_path(rf"^payments/{TRADE_NO}/status/$", payments.payment_status, name="payment_status"),
    re_path(rf"^payments/{TRADE_NO}/qr\.svg$", payments.payment_qr, name="payment_qr"),
    re_path(
        rf"^payments/{TRADE_NO}/simulate/$", payments.payment_simulate, name="payment_simulate"
    ),
    # catalogue
    *catalogue_urls(
        "store",
        list_view=catalogue.PickupStoreList.as_view(),
        create_view=catalogue.PickupStoreCreate.as_view(),
        update_view=catalogue.PickupStoreUpdate.as_view(),
        delete_view=catalogue.PickupStoreDelete.as_view(),
    ),
    *catalogue_urls(
        "courier",
        list_view=catalogue.CourierList.as_view(),
        create_view=catalogue.CourierCreate.as_view(),
        update_view=catalogue.CourierUpdate.as_view(),
        delete_view=catalogue.CourierDelete.as_view(),
    ),
    *catalogue_urls(
        "category",
        list_view=catalogue.CategoryList.as_view(),
        create_view=catalogue.CategoryCreate.as_view(),
        update_view=catalogue.CategoryUpdate.as_view(),
        delete_view=catalogue.CategoryDelete.as_view(),
    ),
    *catalogue_urls(
        "spec",
        list_view=catalogue.SpecAttributeList.as_view(),
        create_view=catalogue.SpecAttributeCreate.as_view(),
        update_view=catalogue.SpecAttributeUpdate.as_view(),
        delete_view=catalogue.SpecAttributeDelete.as_view(),
    ),
    *catalogue_urls(
        "brand",
        list_view=catalogue.BrandList.as_view(),
        create_view=catalogue.BrandCreate.as_view(),
        update_view=catalogue.BrandUpdate.as_view(),
        delete_view=catalogue.BrandDelete.as_view(),
    ),
    *catalogue_urls(
        "product",
        list_view=catalogue.ProductList.as_view(),
        create_view=catalogue.ProductCreate.as_view(),
        update_view=catalogue.ProductUpdate.as_view(),
        delete_view=catalogue.ProductDelete.as_view(),
        copy_view=catalogue.ProductCopy.as_view(),
    ),
    *catalogue_urls(
        "cardtype",
        list_view=catalogue.CardTypeList.as_view(),
        create_view=catalogue.CardTypeCreate.as_view(),
        update_view=catalogue.CardTypeUpdate.as_view(),
        delete_view=catalogue.CardTypeDelete.as_view(),
        copy_view=catalogue.CardTypeCopy.as_view(),
    ),
]
