import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from couponhub.core.tables import AuditEntryTable
from pickup.models import (
    Brand,
    CardType,
    Category,
    CodeBatch,
    Courier,
    ExportRecord,
    ImportRecord,
    PickupCode,
    PickupStore,
    Product,
    SpecAttribute,
)
from pickup.selectors import mask_password


def actions(entity: str, copy: bool = False):
    return tables.TemplateColumn(
        template_name="pickup/_actions.html",
        verbose_name=_("actions"),
        orderable=False,
        extra_context={"entity": entity, "copy": copy},
    )


class PickupStoreTable(tables.Table):
    store = tables.Column(_("store"), accessor="store__name")
    code = tables.Column(_("store code"), accessor="store__code")
    actions = actions("store")

    class Meta:
        model = PickupStore
        fields = [
            "store",
            "code",
            "address",
            "contact_name",
            "contact_phone",
            "manager_phone",
            "enabled",
        ]


class CourierTable(tables.Table):
    actions = actions("courier")

    class Meta:
        model = Courier
        fields = ["name", "code", "enabled", "sort_order"]


class CategoryTable(tables.Table):
    product_count = tables.Column(_("products"), orderable=False)
    actions = actions("category")

    class Meta:
        model = Category
        fields = ["name", "product_count", "sort_order"]


class SpecAttributeTable(tables.Table):
    values = tables.Column(_("values"), empty_values=(), orderable=False)
    actions = actions("spec")

    class Meta:
        model = SpecAttribute
        fields = ["name", "values", "sort_order"]

    def render_values(self, record):
        return "、".join(v.value for v in record.values.all())


class BrandTable(tables.Table):
    actions = actions("brand")

    class Meta:
        model = Brand
        fields = ["name", "description", "sort_order"]


class ProductTable(tables.Table):
    specs = tables.Column(_("specs"), empty_values=(), orderable=False)
    actions = actions("product", copy=True)

    class Meta:
        model = Product
        fields = ["id", "name", "category", "brand", "specs", "unit", "price", "is_active"]

    def render_specs(self, record):
        return "；".join(str(v) for v in record.spec_values.all()) or "—"


class CardTypeTable(tables.Table):
    product_names = tables.Column(_("products"), empty_values=(), orderable=False)
    delivery = tables.Column(_("delivery"), empty_values=(), orderable=False)
    validity = tables.Column(_("validity"), empty_values=(), orderable=False)
    actions = actions("cardtype", copy=True)

    class Meta:
        model = CardType
        fields = [
            "id",
            "name",
            "face_value",
            "selection",
            "product_names",
            "delivery",
            "validity",
            "is_active",
        ]

    def render_selection(self, record):
        if record.selection == CardType.Selection.CHOOSE:
            return format_html("{} {}", _("choose"), record.choose_count)
        return record.get_selection_display()

    def render_product_names(self, record):
        return "、".join(f"{i.product.name}×{i.quantity}" for i in record.items.all())

    def render_delivery(self, record):
        modes = []
        if record.allow_ship:
            modes.append(str(_("ship to an address")))
        if record.allow_store_pickup:
            modes.append(str(_("pick up in store")))
        return " / ".join(modes)

    def render_validity(self, record):
        if not record.valid_from and not record.valid_until:
            return _("no limit")
        return f"{record.valid_from or ''} ～ {record.valid_until or ''}"


class PickupCodeTable(tables.Table):
    code = tables.LinkColumn("pickup:code_detail", args=[tables.A("pk")])
    masked_password = tables.Column(_("password"), empty_values=(), orderable=False)
    card_type = tables.Column(_("card type"), accessor="card_type__name")
    batch = tables.Column(_("batch"), accessor="batch_id")

    class Meta:
        model = PickupCode
        fields = [
            "serial",
            "code",
            "masked_password",
            "card_type",
            "batch",
            "status",
            "enabled",
            "shipped",
            "picked_up",
            "red_packet_amount",
        ]

    def render_masked_password(self, record):
        return mask_password(record.password)


class CodeBatchTable(tables.Table):
    id = tables.Column(_("batch"))
    card_type = tables.Column(_("card type"), accessor="card_type__name")
    serials = tables.Column(_("serial numbers"), empty_values=(), orderable=False)
    progress = tables.TemplateColumn(
        template_name="pickup/_batch_progress.html", verbose_name=_("progress"), orderable=False
    )

    class Meta:
        model = CodeBatch
        fields = [
            "id",
            "card_type",
            "source",
            "prefix",
            "code_length",
            "code_format",
            "quantity",
            "serials",
            "created_at",
            "progress",
        ]

    def render_serials(self, record):
        return f"{record.serial_start}～{record.serial_end}"


class ImportRecordTable(tables.Table):
    files = tables.TemplateColumn(
        template_name="pickup/_import_files.html", verbose_name=_("files"), orderable=False
    )

    class Meta:
        model = ImportRecord
        fields = [
            "created_at",
            "original_name",
            "card_type",
            "batch",
            "status",
            "total_rows",
            "imported",
            "duplicates",
            "invalid",
            "error",
            "created_by",
            "files",
        ]


class ExportRecordTable(tables.Table):
    status = tables.TemplateColumn(
        template_name="pickup/_export_status.html", verbose_name=_("status"), orderable=False
    )
    description = tables.Column(_("selection"), empty_values=(), orderable=False)

    class Meta:
        model = ExportRecord
        fields = ["created_at", "description", "file_format", "row_count", "created_by", "status"]

    def render_description(self, record):
        from pickup.selectors import describe_selection

        return describe_selection(record.selection)


class PickupAuditTable(AuditEntryTable):
    pass
