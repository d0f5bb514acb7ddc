"""What each audit action of the product master is called on the pages."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

ACTIONS = {
    "products.category_create": _("add a food category"),
    "products.category_update": _("change a food category"),
    "products.category_enable": _("enable a food category"),
    "products.category_disable": _("disable a food category"),
    "products.category_upsert": _("keep food categories through the API"),
    "products.product_create": _("add a food"),
    "products.product_update": _("change a food"),
    "products.product_enable": _("enable a food"),
    "products.product_disable": _("disable a food"),
    "products.product_upsert": _("keep foods through the API"),
    "products.import_start": _("upload a food file"),
    "products.import": _("import foods"),
}

SNAPSHOT_LABELS = {
    "updated": pgettext_lazy("audit snapshot", "updated"),
    "category_codes": pgettext_lazy("audit snapshot", "food category codes"),
    "skus": pgettext_lazy("audit snapshot", "food codes"),
    "invalid_rows": pgettext_lazy("audit snapshot", "rows with errors"),
}
