"""Gift-card pickup's catalogue: settings, pickup stores, couriers, categories, specs, brands,
products and card types (卡券)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.models import Org, public_storage
from couponhub.core.money import MoneyField


class PickupSettings(models.Model):
    """One row (pk=1): the system's name, logo, contact and texts; also the serial counter."""

    SINGLETON_PK = 1

    name = models.CharField(_("system name"), max_length=60, default="智慧卡券提货系统")
    logo = models.ImageField(
        _("logo"), upload_to="pickup/logo/", blank=True, storage=public_storage
    )
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
    # Comma separated, normalised by services.parse_phone_list.
    admin_phones = models.CharField(
        _("administrators' phones"),
        max_length=500,
        blank=True,
        help_text=_(
            "New online and store orders are texted to these mobile numbers (11 digits each, "
            "separated by commas or spaces)."
        ),
    )
    # The next serial number (流水号) handed out to a generated or imported code.
    next_serial = models.PositiveBigIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("pickup settings")
        verbose_name_plural = _("pickup settings")

    def __str__(self):
        return self.name

    @property
    def admin_phone_list(self) -> list[str]:
        return [p for p in self.admin_phones.split(",") if p]

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
    value = models.CharField(pgettext_lazy("pickup", "value"), max_length=50)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("spec value")
        verbose_name_plural = _("spec values")
        ordering = ["attribute__sort_order", "attribute_id", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["attribute", "value"],
                name="pickup_spec_value_unique",
                violation_error_message=_(
                    "Attribute value: this attribute already has this value."
                ),
            )
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
    name = models.CharField(pgettext_lazy("pickup", "product name"), max_length=100)
    category = models.ForeignKey(
        Category,
        verbose_name=pgettext_lazy("pickup", "category"),
        on_delete=models.PROTECT,
        related_name="products",
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
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0),
                name="pickup_price_gte_0",
                violation_error_message=_("Reference price: cannot be below zero."),
            )
        ]

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
    valid_from = models.DateField(pgettext_lazy("pickup", "valid from"), null=True, blank=True)
    valid_until = models.DateField(pgettext_lazy("pickup", "valid until"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("pickup", "card type")
        verbose_name_plural = _("card types")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_ship=True) | Q(allow_store_pickup=True),
                name="pickup_cardtype_some_delivery",
                violation_error_message=_("Delivery: choose home delivery, store pickup or both."),
            ),
            models.CheckConstraint(
                condition=Q(choose_count__gte=1),
                name="pickup_cardtype_choose_gte_1",
                violation_error_message=_("Number to choose: at least one."),
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="pickup_cardtype_validity_order",
                violation_error_message=_("Valid until: cannot be before valid from."),
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
            models.UniqueConstraint(
                fields=["card_type", "product"],
                name="pickup_item_unique",
                violation_error_message=_("Product: this card type already contains this product."),
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="pickup_item_qty_gte_1",
                violation_error_message=_("Quantity: at least one."),
            ),
        ]

    def __str__(self):
        return f"{self.product} × {self.quantity}"
