"""Gift-card pickup (SPEC §7): settings, stores, couriers, catalogue, card types, code batches.

Orders and red-packet claims (the consumer side) build on PickupCode: its `status` goes from
unused to used exactly once (a conditional UPDATE), `shipped` / `picked_up` follow the order, and
`red_packet_amount` is what a red-packet allocation put on the code.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.crypto import EncryptedTextField
from couponhub.core.models import Job, Org
from couponhub.core.money import MoneyField


class PickupSettings(models.Model):
    """One row (pk=1): the system's name, logo, contact and texts; also the serial counter."""

    SINGLETON_PK = 1

    name = models.CharField(_("system name"), max_length=60, default="智慧卡券提货系统")
    logo = models.ImageField(_("logo"), upload_to="pickup/logo/", blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_address = models.CharField(_("contact address"), max_length=200, blank=True)
    service_hours = models.CharField(_("service hours"), max_length=60, blank=True)
    red_packet_name = models.CharField(_("red packet name"), max_length=30, default="红包")
    pickup_notes = models.TextField(_("pickup notes"), blank=True)
    auto_complete_days = models.PositiveIntegerField(
        _("auto-complete after (days)"),
        default=10,
        help_text=_("Shipped online orders are completed automatically this many days later."),
    )
    # The next serial number (流水号) handed out to a generated or imported code.
    next_serial = models.PositiveBigIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("pickup settings")
        verbose_name_plural = _("pickup settings")

    def __str__(self):
        return self.name

    @classmethod
    def load(cls) -> "PickupSettings":
        obj, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return obj


class PickupStore(models.Model):
    """A store of the org tree where consumers may collect goods."""

    store = models.OneToOneField(
        Org,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="pickup_store",
        limit_choices_to={"kind": Org.Kind.STORE},
    )
    enabled = models.BooleanField(_("pickup enabled"), default=True)
    address = models.CharField(_("address"), max_length=200)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    manager_phone = models.CharField(_("manager phone"), max_length=20, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=60, blank=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("pickup store")
        verbose_name_plural = _("pickup stores")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.store.name


class Courier(models.Model):
    name = models.CharField(_("courier name"), max_length=50, unique=True)
    code = models.CharField(
        _("courier code"),
        max_length=30,
        unique=True,
        help_text=_("The courier company's standard code, e.g. SF, YTO, ZTO, STO, YD, JD, EMS"),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


class Category(models.Model):
    name = models.CharField(_("category name"), max_length=50, unique=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


class SpecAttribute(models.Model):
    """A property shared by products, e.g. 产地, 重量, 包装."""

    name = models.CharField(_("attribute name"), max_length=30, unique=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("spec attribute")
        verbose_name_plural = _("spec attributes")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


class SpecValue(models.Model):
    attribute = models.ForeignKey(
        SpecAttribute, verbose_name=_("attribute"), on_delete=models.CASCADE, related_name="values"
    )
    value = models.CharField(_("value"), max_length=50)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("spec value")
        verbose_name_plural = _("spec values")
        ordering = ["attribute__sort_order", "attribute_id", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["attribute", "value"], name="pickup_spec_value_unique")
        ]

    def __str__(self):
        return f"{self.attribute.name}：{self.value}"


class Brand(models.Model):
    name = models.CharField(_("brand name"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


class Product(models.Model):
    name = models.CharField(_("product name"), max_length=100)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products"
    )
    brand = models.ForeignKey(
        Brand,
        verbose_name=_("brand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    spec_values = models.ManyToManyField(
        SpecValue, verbose_name=_("specs"), blank=True, related_name="products"
    )
    unit = models.CharField(_("unit"), max_length=10, default="份")
    price = MoneyField(_("reference price"), default=0)
    description = models.TextField(_("details"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(price__gte=0), name="pickup_price_gte_0")]

    def __str__(self):
        return self.name


class CardType(models.Model):
    """A kind of gift card (卡券), e.g. 2388套餐: its products and how they are delivered."""

    class Selection(models.TextChoices):
        FIXED = "fixed", _("fixed products")
        CHOOSE = "choose", _("choose N of the list")

    name = models.CharField(_("card type name"), max_length=60, unique=True)
    face_value = MoneyField(_("face value"), default=0)
    selection = models.CharField(
        _("product selection"), max_length=10, choices=Selection.choices, default=Selection.FIXED
    )
    choose_count = models.PositiveIntegerField(_("products to choose"), default=1)
    products = models.ManyToManyField(
        Product, through="CardTypeItem", verbose_name=_("products"), related_name="card_types"
    )
    allow_ship = models.BooleanField(_("ship to an address"), default=True)
    allow_store_pickup = models.BooleanField(_("pick up in store"), default=True)
    stores = models.ManyToManyField(
        PickupStore,
        verbose_name=_("allowed stores"),
        blank=True,
        related_name="card_types",
        help_text=_("Leave empty to allow every enabled pickup store."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("card type")
        verbose_name_plural = _("card types")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_ship=True) | Q(allow_store_pickup=True),
                name="pickup_cardtype_some_delivery",
            ),
            models.CheckConstraint(
                condition=Q(choose_count__gte=1), name="pickup_cardtype_choose_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="pickup_cardtype_validity_order",
            ),
        ]

    def __str__(self):
        return self.name

    def is_valid_on(self, day) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)


class CardTypeItem(models.Model):
    card_type = models.ForeignKey(CardType, on_delete=models.CASCADE, related_name="items")
    # PROTECT: a product in use by a card type cannot be deleted.
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="card_items"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("card type product")
        verbose_name_plural = _("card type products")
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["card_type", "product"], name="pickup_item_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="pickup_item_qty_gte_1"),
        ]

    def __str__(self):
        return f"{self.product} × {self.quantity}"


class CodeFormat(models.TextChoices):
    DIGITS = "digits", _("digits")
    LETTERS = "letters", _("letters")
    MIXED = "mixed", _("digits and letters")


class CodeBatch(models.Model):
    """One generation (or import) of pickup codes: its parameters and reserved serial range."""

    class Source(models.TextChoices):
        GENERATED = "generated", _("generated")
        IMPORTED = "imported", _("imported")

    card_type = models.ForeignKey(
        CardType, verbose_name=_("card type"), on_delete=models.PROTECT, related_name="batches"
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.GENERATED
    )
    prefix = models.CharField(_("code prefix"), max_length=10, blank=True)
    code_length = models.PositiveSmallIntegerField(_("code length"), default=0)
    code_format = models.CharField(
        _("code format"), max_length=10, choices=CodeFormat.choices, blank=True
    )
    password_length = models.PositiveSmallIntegerField(_("password length"), default=0)
    password_format = models.CharField(
        _("password format"), max_length=10, choices=CodeFormat.choices, blank=True
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    # Serial numbers serial_start .. serial_start + quantity - 1 belong to this batch.
    serial_start = models.PositiveBigIntegerField(_("first serial number"))
    job = models.ForeignKey(
        Job,
        verbose_name=_("job"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("generated at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("code batch")
        verbose_name_plural = _("code batches")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.pk}"

    @property
    def serial_end(self) -> int:
        return self.serial_start + self.quantity - 1


class PickupCode(models.Model):
    """One pickup code (提货码) and its password."""

    class Status(models.TextChoices):
        UNUSED = "unused", _("unused")
        USED = "used", _("used")

    # The serial number (流水号) is the primary key: one index less to maintain per insert,
    # and every code is reachable by it.
    serial = models.PositiveBigIntegerField(_("serial number"), primary_key=True)
    # Unique through Meta.constraints: no extra LIKE index on PostgreSQL (codes are looked up
    # by equality only), one index less to maintain per insert.
    code = models.CharField(_("pickup code"), max_length=40)
    password = EncryptedTextField(_("password"))
    card_type = models.ForeignKey(
        CardType, verbose_name=_("card type"), on_delete=models.PROTECT, related_name="codes"
    )
    batch = models.ForeignKey(
        CodeBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="codes"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.UNUSED
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    shipped = models.BooleanField(_("shipped"), default=False)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    picked_up = models.BooleanField(_("picked up"), default=False)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    red_packet_amount = MoneyField(_("red packet"), default=0)

    class Meta:
        verbose_name = _("pickup code")
        verbose_name_plural = _("pickup codes")
        ordering = ["serial"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="pickup_code_unique"),
            models.CheckConstraint(
                condition=Q(red_packet_amount__gte=0), name="pickup_code_red_packet_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(status="used") | Q(picked_up=False, shipped=False),
                name="pickup_code_delivery_needs_use",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def is_used(self) -> bool:
        return self.status == self.Status.USED


class ImportRecord(models.Model):
    """One upload of pickup codes: the original file, the counts and the per-row errors."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        DONE = "done", _("imported")
        FAILED = "failed", _("failed")

    card_type = models.ForeignKey(
        CardType, verbose_name=_("card type"), on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        CodeBatch,
        verbose_name=_("batch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    original_file = models.FileField(_("original file"), upload_to="pickup/imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    error_file = models.FileField(_("error list"), upload_to="pickup/imports/%Y/%m/", blank=True)
    job = models.ForeignKey(
        Job,
        verbose_name=_("job"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("import record")
        verbose_name_plural = _("import records")
        ordering = ["-id"]

    def __str__(self):
        return self.original_name


class ExportRecord(models.Model):
    """One export of pickup codes; the file itself is the job's result in the download centre."""

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        CSV = "csv", "CSV (.csv)"

    selection = models.JSONField(_("selection"), default=dict)
    columns = models.JSONField(_("columns"), default=list)
    file_format = models.CharField(
        _("format"), max_length=4, choices=Format.choices, default=Format.XLSX
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    job = models.ForeignKey(
        Job,
        verbose_name=_("job"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("export record")
        verbose_name_plural = _("export records")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.pk}"


# ---------------------------------------------------------------------------
# Orders (seed 002 §五): the consumer's redemption of a code
# ---------------------------------------------------------------------------


class PickupOrder(models.Model):
    """What a consumer chose with a pickup code: shipped to an address (线上订单) or collected at
    a store (门店订单). `deleted_at` set = in the recycle bin (回收站)."""

    class Kind(models.TextChoices):
        ONLINE = "online", _("ship to an address")
        STORE = "store", _("pick up in store")

    class Status(models.TextChoices):
        PENDING = "pending", _("not shipped")
        SHIPPED = "shipped", _("shipped")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    order_no = models.CharField(_("order number"), max_length=24, unique=True)
    # DO_NOTHING: the database's foreign key protects the code; Django's delete of never-used
    # codes stays one DELETE statement (no collector walking the rows).
    code = models.ForeignKey(
        PickupCode,
        verbose_name=_("pickup code"),
        on_delete=models.DO_NOTHING,
        related_name="orders",
    )
    card_type = models.ForeignKey(
        CardType, verbose_name=_("card type"), on_delete=models.PROTECT, related_name="orders"
    )
    kind = models.CharField(_("delivery"), max_length=8, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    consumer_name = models.CharField(_("name"), max_length=30)
    consumer_phone = models.CharField(_("phone"), max_length=20, db_index=True)
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=20, blank=True)
    district = models.CharField(_("district"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    store = models.ForeignKey(
        PickupStore,
        verbose_name=_("pickup store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    pickup_date = models.DateField(_("pickup date"), null=True, blank=True)
    courier = models.ForeignKey(
        Courier,
        verbose_name=_("courier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    tracking_no = models.CharField(_("tracking number"), max_length=40, blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    created_at = models.DateTimeField(_("ordered at"), default=timezone.now, db_index=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pickup order")
        verbose_name_plural = _("pickup orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The last line behind the conditional UPDATE: one live order per code.
            models.UniqueConstraint(
                fields=["code"],
                condition=~Q(status="cancelled"),
                name="pickup_order_one_live_per_code",
            ),
            models.CheckConstraint(
                condition=Q(kind="online", store__isnull=True)
                | Q(kind="store", store__isnull=False),
                name="pickup_order_store_iff_store_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind="online") | ~Q(status="shipped"),
                name="pickup_order_only_online_ships",
            ),
        ]
        indexes = [models.Index(fields=["kind", "status", "-created_at"])]

    def __str__(self):
        return self.order_no

    @property
    def full_address(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address}"

    @property
    def status_label(self) -> str:
        if self.kind == self.Kind.STORE:
            return str(STORE_STATUS_LABELS[self.status])
        return str(self.get_status_display())


STORE_STATUS_LABELS = {
    PickupOrder.Status.PENDING: _("awaiting pickup"),
    PickupOrder.Status.SHIPPED: _("shipped"),
    PickupOrder.Status.COMPLETED: _("picked up"),
    PickupOrder.Status.CANCELLED: _("cancelled"),
}


class PickupOrderItem(models.Model):
    order = models.ForeignKey(PickupOrder, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    product_name = models.CharField(_("product name"), max_length=100)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("order product")
        verbose_name_plural = _("order products")
        ordering = ["id"]

    def __str__(self):
        return f"{self.product_name} × {self.quantity}"


class PasswordAttempt(models.Model):
    """One check of a code + password by a consumer. Keyed by the code as typed (not a foreign
    key), so guessing at codes that do not exist is limited the same way and tells nothing."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("checking")
        FAILED = "failed", _("wrong")
        OK = "ok", _("correct")
        BLOCKED = "blocked", _("refused: locked")

    code = models.CharField(_("pickup code"), max_length=40)
    client_ip = models.GenericIPAddressField(_("client address"))
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("password attempt")
        verbose_name_plural = _("password attempts")
        # Only tries that count towards a lock-out are indexed (OK and blocked ones are not).
        indexes = [
            models.Index(
                fields=["code", "created_at"],
                name="pickup_attempt_code_time",
                condition=Q(outcome__in=["pending", "failed"]),
            ),
            models.Index(
                fields=["client_ip", "created_at"],
                name="pickup_attempt_ip_time",
                condition=Q(outcome__in=["pending", "failed"]),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.client_ip} {self.outcome}"


# ---------------------------------------------------------------------------
# Red packets (seed 002 §六)
# ---------------------------------------------------------------------------


class RedPacketSettings(models.Model):
    """One row (pk=1): how many red packets one user may claim per card type (0 = no limit)."""

    SINGLETON_PK = 1

    enabled = models.BooleanField(_("red packets enabled"), default=True)
    daily_limit = models.PositiveIntegerField(_("daily limit"), default=1)
    monthly_limit = models.PositiveIntegerField(_("monthly limit"), default=5)
    lifetime_limit = models.PositiveIntegerField(_("lifetime limit"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("red packet settings")
        verbose_name_plural = _("red packet settings")

    def __str__(self):
        return str(_("red packet settings"))

    @classmethod
    def load(cls) -> "RedPacketSettings":
        obj, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return obj


class RedPacketAccount(models.Model):
    """One row (pk=1). top_ups_total = balance + reserved + spent_total at all times:
    generation moves money from balance to reserved, clearing moves it back, a claim moves it
    from reserved to spent."""

    SINGLETON_PK = 1

    balance = MoneyField(_("available balance"), default=0)
    reserved = MoneyField(_("reserved for codes"), default=0)
    top_ups_total = MoneyField(_("total top-ups"), default=0)
    spent_total = MoneyField(_("total spending"), default=0)

    class Meta:
        verbose_name = _("red packet account")
        verbose_name_plural = _("red packet account")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="pickup_rp_balance_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="pickup_rp_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(
                    top_ups_total=models.F("balance")
                    + models.F("reserved")
                    + models.F("spent_total")
                ),
                name="pickup_rp_account_adds_up",
            ),
        ]

    def __str__(self):
        return str(_("red packet account"))

    @classmethod
    def load(cls) -> "RedPacketAccount":
        obj, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return obj


class RedPacketEntry(models.Model):
    """The account's ledger (append-only): every change of balance, reserved or spent."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("top-up")
        RESERVE = "reserve", _("reserved by generation")
        RELEASE = "release", _("returned by clearing")
        CLAIM = "claim", _("paid to a consumer")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = MoneyField(_("amount"))
    balance_after = MoneyField(_("balance after"))
    reserved_after = MoneyField(_("reserved after"))
    codes = models.PositiveIntegerField(_("codes"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("red packet ledger entry")
        verbose_name_plural = _("red packet ledger")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="pickup_rp_entry_positive")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"


class RedPacketClaim(models.Model):
    """A consumer's claim of the red packet on one code: at most one per code."""

    code = models.OneToOneField(
        PickupCode,
        verbose_name=_("pickup code"),
        on_delete=models.DO_NOTHING,
        related_name="red_packet_claim",
    )
    order = models.ForeignKey(
        PickupOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+"
    )
    card_type = models.ForeignKey(
        CardType, verbose_name=_("card type"), on_delete=models.PROTECT, related_name="+"
    )
    user_phone = models.CharField(_("user"), max_length=20)
    user_name = models.CharField(_("name"), max_length=30, blank=True)
    amount = MoneyField(_("amount"))
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=120, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)

    class Meta:
        verbose_name = _("red packet claim")
        verbose_name_plural = _("red packet claims")
        ordering = ["-claimed_at", "-id"]
        indexes = [models.Index(fields=["user_phone", "card_type", "claimed_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="pickup_rp_claim_positive")
        ]

    def __str__(self):
        return f"{self.user_phone} {self.amount}"


class RedPacketPayout(models.Model):
    """The payout ledger: what the payment backend was asked to pay, and what it answered."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")

    claim = models.OneToOneField(
        RedPacketClaim, verbose_name=_("claim"), on_delete=models.PROTECT, related_name="payout"
    )
    amount = MoneyField(_("amount"))
    payee = models.CharField(_("payee"), max_length=60)
    backend = models.CharField(_("payment backend"), max_length=120)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("red packet payout")
        verbose_name_plural = _("red packet payouts")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.payee} {self.amount} {self.status}"
