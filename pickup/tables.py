import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.permissions import mask_phone
from couponhub.core.tables import AuditEntryTable, MoneyColumn, Table, TemplateColumn
from pickup.models import (
    Brand,
    CardType,
    Category,
    CodeBatch,
    Courier,
    ExportRecord,
    ImportRecord,
    PickupCode,
    PickupOrder,
    PickupStore,
    Product,
    RedPacketClaim,
    RedPacketEntry,
    SpecAttribute,
)
from pickup.selectors import describe_selection, mask_password, order_products


def actions(entity: str, copy: bool = False):
    return TemplateColumn(
        template_name="pickup/_actions.html",
        verbose_name=_("actions"),
        orderable=False,
        extra_context={"entity": entity, "copy": copy},
    )


class PickupStoreTable(Table):
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


class CourierTable(Table):
    actions = actions("courier")

    class Meta:
        model = Courier
        fields = ["name", "code", "enabled", "sort_order"]


class CategoryTable(Table):
    product_count = tables.Column(_("products"), orderable=False)
    actions = actions("category")

    class Meta:
        model = Category
        fields = ["name", "product_count", "sort_order"]


class SpecAttributeTable(Table):
    values = tables.Column(_("values"), empty_values=(), orderable=False)
    actions = actions("spec")

    class Meta:
        model = SpecAttribute
        fields = ["name", "values", "sort_order"]

    def render_values(self, record):
        return "、".join(v.value for v in record.values.all())


class BrandTable(Table):
    actions = actions("brand")

    class Meta:
        model = Brand
        fields = ["name", "description", "sort_order"]


class ProductTable(Table):
    specs = tables.Column(_("specs"), empty_values=(), orderable=False)
    actions = actions("product", copy=True)

    class Meta:
        model = Product
        fields = ["id", "name", "category", "brand", "specs", "unit", "price", "is_active"]

    def render_specs(self, record):
        return "；".join(str(v) for v in record.spec_values.all()) or "—"


class CardTypeTable(Table):
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


class PickupCodeTable(Table):
    code = tables.LinkColumn("pickup:code_detail", args=[tables.A("pk")])
    masked_password = tables.Column(_("password"), empty_values=(), orderable=False)
    card_type = tables.Column(pgettext_lazy("pickup", "card type"), accessor="card_type__name")
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


class CodeBatchTable(Table):
    id = tables.Column(_("batch"))
    card_type = tables.Column(pgettext_lazy("pickup", "card type"), accessor="card_type__name")
    serials = tables.Column(_("serial numbers"), empty_values=(), orderable=False)
    progress = TemplateColumn(
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


class ImportRecordTable(Table):
    files = TemplateColumn(
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


class ExportRecordTable(Table):
    status = TemplateColumn(
        template_name="pickup/_export_status.html", verbose_name=_("status"), orderable=False
    )
    description = tables.Column(_("selection"), empty_values=(), orderable=False)

    class Meta:
        model = ExportRecord
        fields = ["created_at", "description", "file_format", "row_count", "created_by", "status"]

    def render_description(self, record):
        # rows of selectors.export_records: the card type's name is read with them
        return describe_selection(record.selection, card_type_label=record.card_type_label)


class PickupAuditTable(AuditEntryTable):
    pass


# ---------------------------------------------------------------------------
# Orders and red packets
# ---------------------------------------------------------------------------


class OrderTable(Table):
    select = tables.CheckBoxColumn(accessor="pk", attrs={"input": {"name": "ids"}})
    order_no = tables.Column(_("order number"))
    code = tables.Column(_("pickup code"), accessor="code__code")
    card_type = tables.Column(pgettext_lazy("pickup", "card type"), accessor="card_type__name")
    products = tables.Column(_("products"), empty_values=(), orderable=False)
    consumer = tables.Column(_("consumer"), empty_values=(), orderable=False)
    status = tables.Column(_("status"), empty_values=())
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("ordered at"))

    class Meta:
        model = PickupOrder
        fields = []
        sequence = ("select", "order_no", "code", "card_type", "products", "consumer", "...")

    def __init__(self, *args, user=None, detail_url="pickup:order_detail", **kwargs):
        self.user = user
        self.detail_url = detail_url
        super().__init__(*args, **kwargs)

    def render_order_no(self, record):
        return format_html(
            '<a href="{}">{}</a>', reverse(self.detail_url, args=[record.pk]), record.order_no
        )

    def render_products(self, record):
        return order_products(record)

    def render_consumer(self, record):
        return format_html(
            "{}<br><span class='muted small'>{}</span>",
            record.consumer_name,
            mask_phone(record.consumer_phone, self.user),
        )

    def render_status(self, record):
        return record.status_label


class OnlineOrderTable(OrderTable):
    address = tables.Column(_("ship to"), empty_values=(), orderable=False)
    shipping = tables.Column(_("courier / tracking number"), empty_values=(), orderable=False)

    def render_address(self, record):
        return record.full_address

    def render_shipping(self, record):
        if not record.courier_id:
            return "—"
        return format_html("{}<br>{}", record.courier.name, record.tracking_no)


class StoreOrderTable(OrderTable):
    store = tables.Column(_("pickup store"), accessor="store__store__name")
    pickup_date = tables.DateColumn(format="Y-m-d", verbose_name=_("pickup date"))


class RecycleTable(OrderTable):
    kind = tables.Column(_("delivery"))
    deleted_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("deleted at"))


class RedPacketCodeTable(Table):
    select = tables.CheckBoxColumn(accessor="pk", attrs={"input": {"name": "ids"}})
    serial = tables.Column(_("serial number"))
    code = tables.Column(_("pickup code"))
    card_type = tables.Column(pgettext_lazy("pickup", "card type"), accessor="card_type__name")
    batch = tables.Column(_("batch"), accessor="batch_id")
    red_packet_amount = MoneyColumn(_("red packet"))
    status = tables.Column(_("status"))
    claim = tables.Column(_("claimed"), empty_values=(), orderable=False)

    class Meta:
        model = PickupCode
        fields = []

    def render_claim(self, record):
        claim = getattr(record, "red_packet_claim", None)
        if claim is None:
            return _("not claimed")
        return format_html(
            "{} {}", timezone.localtime(claim.claimed_at).strftime("%Y-%m-%d %H:%M"), _("claimed")
        )


class RedPacketClaimTable(Table):
    claimed_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name=_("claimed at"))
    user_name = tables.Column(pgettext_lazy("person", "name"))
    user_phone = tables.Column(pgettext_lazy("pickup", "user"))
    code = tables.Column(_("pickup code"), accessor="code__code")
    card_type = tables.Column(pgettext_lazy("pickup", "card type"), accessor="card_type__name")
    order = tables.Column(_("order"), accessor="order__order_no")
    amount = MoneyColumn(_("amount"))
    location = tables.Column(_("location"))
    client_ip = tables.Column(_("client address"))
    payout = tables.Column(_("payout"), accessor="payout__status", orderable=False)

    class Meta:
        model = RedPacketClaim
        fields = []

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def render_user_phone(self, value):
        return mask_phone(value, self.user)

    def render_payout(self, record):
        payout = getattr(record, "payout", None)
        return payout.get_status_display() if payout else "—"


class RedPacketEntryTable(Table):
    created_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name=_("time"))

    class Meta:
        model = RedPacketEntry
        fields = [
            "created_at",
            "kind",
            "amount",
            "codes",
            "balance_after",
            "reserved_after",
            "note",
        ]


class ActivationBatchTable(Table):
    """Batches sold at the counter: how many cards the sales activated so far."""

    id = tables.Column(_("batch"))
    card_type = tables.Column(pgettext_lazy("pickup", "card type"), accessor="card_type__name")
    serials = tables.Column(_("serial numbers"), empty_values=(), orderable=False)
    activated_count = tables.Column(_("activated"), orderable=False)
    not_activated_count = tables.Column(_("not activated"), orderable=False)

    class Meta:
        model = CodeBatch
        fields = ["id", "card_type", "quantity", "serials", "activated_count"]
        sequence = [*fields, "not_activated_count"]
        orderable = False

    def render_serials(self, record):
        return f"{record.serial_start}～{record.serial_end}"
