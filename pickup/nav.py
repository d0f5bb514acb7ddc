from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

SYSTEM = _("Pickup · system")
CATALOGUE = _("Pickup · products")
CARDS = _("Pickup · cards and codes")
ORDERS = _("Pickup · orders")
RED_PACKETS = _("Pickup · red packets")

NAV_ITEMS = [
    NavItem(CARDS, _("Card types"), "pickup:cardtype_list", "pickup.view", 300),
    NavItem(CARDS, _("Pickup codes"), "pickup:code_list", "pickup.view", 310),
    NavItem(CARDS, _("Generate codes"), "pickup:generate", "pickup.manage", 320),
    NavItem(CARDS, _("Batch modify / delete"), "pickup:batch_action", "pickup.manage", 330),
    NavItem(CARDS, _("Import codes"), "pickup:import", "pickup.manage", 340),
    NavItem(CARDS, _("Export codes"), "pickup:export", "pickup.manage", 350),
    NavItem(CARDS, _("Print pickup cards"), "pickup:print_cards", "pickup.manage", 355),
    NavItem(CARDS, _("Card activation"), "pickup:activation", "pickup.activate_cards", 356),
    NavItem(ORDERS, _("Online orders"), "pickup:online_orders", "pickup.view", 200),
    NavItem(ORDERS, _("Store orders"), "pickup:store_orders", "pickup.view", 210),
    NavItem(
        ORDERS, _("Store pickup orders"), "pickup:store_orders", "pickup.verify_store_order", 211
    ),
    NavItem(ORDERS, _("Recycle bin"), "pickup:recycle_bin", "pickup.manage", 220),
    NavItem(RED_PACKETS, _("Red packet list"), "pickup:red_packet_list", "pickup.manage", 600),
    NavItem(
        RED_PACKETS, _("Generate red packets"), "pickup:red_packet_generate", "pickup.manage", 610
    ),
    NavItem(
        RED_PACKETS, _("Red packet account"), "pickup:red_packet_account", "pickup.manage", 620
    ),
    NavItem(
        RED_PACKETS, _("Red packet settings"), "pickup:red_packet_settings", "pickup.manage", 630
    ),
    NavItem(RED_PACKETS, _("Red packet claims"), "pickup:red_packet_claims", "pickup.manage", 640),
    NavItem(CATALOGUE, _("Products"), "pickup:product_list", "pickup.view", 400),
    NavItem(CATALOGUE, _("Product categories"), "pickup:category_list", "pickup.view", 410),
    NavItem(CATALOGUE, _("Product specs"), "pickup:spec_list", "pickup.view", 420),
    NavItem(CATALOGUE, _("Brands"), "pickup:brand_list", "pickup.view", 430),
    NavItem(SYSTEM, _("Pickup settings"), "pickup:settings", "pickup.manage", 500),
    NavItem(SYSTEM, _("Pickup stores"), "pickup:store_list", "pickup.view", 510),
    NavItem(SYSTEM, _("Couriers"), "pickup:courier_list", "pickup.view", 520),
    NavItem(SYSTEM, _("SMS management"), "pickup:sms", "pickup.manage", 530),
    NavItem(SYSTEM, _("Operation log"), "pickup:operation_log", "pickup.view", 540),
]
