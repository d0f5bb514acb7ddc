from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

BASE_DATA = _("Base data")

NAV_ITEMS = [
    NavItem(
        BASE_DATA, _("Food categories"), "products:categories", "products.view", 10, icon="utensils"
    ),
    NavItem(
        BASE_DATA, _("Food master data"), "products:products", "products.view", 20, icon="utensils"
    ),
    NavItem(BASE_DATA, _("Food import"), "products:import", "products.manage", 30, icon="utensils"),
]
