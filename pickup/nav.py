from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

SYSTEM = _("Pickup · system")
CATALOGUE = _("Pickup · products")
CARDS = _("Pickup · cards and codes")
ORDERS = _("Pickup · orders")
RED_PACKETS = _("Pickup · red packets")

NAV_ITEMS = [
    NavItem(
        CARDS, _("Card types"), "pickup:cardtype_list", "pickup.view", 300, icon="wallet-cards"
    ),
    NavItem(CARDS, _("Pickup codes"), "pickup:code_list", "pickup.view", 310, icon="wallet-cards"),
    NavItem(
        CARDS, _("Generate codes"), "pickup:generate", "pickup.manage", 320, icon="wallet-cards"
    ),
    NavItem(
        CARDS,
        _("Batch modify / delete"),
        "pickup:batch_action",
        "pickup.manage",
        330,
        icon="wallet-cards",
    ),
    NavItem(CARDS, _("Import codes"), "pickup:import", "pickup.manage", 340, icon="wallet-cards"),
    NavItem(CARDS, _("Export codes"), "pickup:export", "pickup.manage", 350, icon="wallet-cards"),
    NavItem(
        CARDS,
        _("Print pickup cards"),
        "pickup:print_cards",
        "pickup.manage",
        355,
        icon="wallet-cards",
    ),
    NavItem(
        CARDS,
        _("Card activation"),
        "pickup:activation",
        "pickup.activate_cards",
        356,
        icon="wallet-cards",
    ),
    NavItem(ORDERS, _("Online orders"), "pickup:online_orders", "pickup.view", 200, icon="receipt"),
    NavItem(ORDERS, _("Store orders"), "pickup:store_orders", "pickup.view", 210, icon="receipt"),
    NavItem(
        ORDERS,
        _("Store pickup orders"),
        "pickup:store_orders",
        "pickup.verify_store_order",
        211,
        icon="receipt",
    ),
    NavItem(ORDERS, _("Recycle bin"), "pickup:recycle_bin", "pickup.manage", 220, icon="receipt"),
    NavItem(
        RED_PACKETS,
        _("Red packet list"),
        "pickup:red_packet_list",
        "pickup.manage",
        600,
        icon="gift",
    ),
    NavItem(
        RED_PACKETS,
        _("Generate red packets"),
        "pickup:red_packet_generate",
        "pickup.manage",
        610,
        icon="gift",
    ),
    NavItem(
        RED_PACKETS,
        _("Red packet account"),
        "pickup:red_packet_account",
        "pickup.manage",
        620,
        icon="gift",
    ),
    NavItem(
        RED_PACKETS,
        _("Red packet settings"),
        "pickup:red_packet_settings",
        "pickup.manage",
        630,
        icon="gift",
    ),
    NavItem(
        RED_PACKETS,
        _("Red packet claims"),
        "pickup:red_packet_claims",
        "pickup.manage",
        640,
        icon="gift",
    ),
    NavItem(CATALOGUE, _("Products"), "pickup:product_list", "pickup.view", 400, icon="package"),
    NavItem(
        CATALOGUE,
        _("Product categories"),
        "pickup:category_list",
        "pickup.view",
        410,
        icon="package",
    ),
    NavItem(CATALOGUE, _("Product specs"), "pickup:spec_list", "pickup.view", 420, icon="package"),
    NavItem(CATALOGUE, _("Brands"), "pickup:brand_list", "pickup.view", 430, icon="package"),
    NavItem(SYSTEM, _("Pickup settings"), "pickup:settings", "pickup.manage", 500, icon="settings"),
    NavItem(SYSTEM, _("Pickup stores"), "pickup:store_list", "pickup.view", 510, icon="settings"),
    NavItem(SYSTEM, _("Couriers"), "pickup:courier_list", "pickup.view", 520, icon="settings"),
    NavItem(SYSTEM, _("SMS management"), "pickup:sms", "pickup.manage", 530, icon="settings"),
    NavItem(
        SYSTEM, _("Operation log"), "pickup:operation_log", "pickup.view", 540, icon="settings"
    ),
]
