"""Orders (seed 002 §五): the consumer's redemption of a code."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pickup.models.catalogue import CardType, Courier, PickupStore, Product
from pickup.models.codes import PickupCode


class TrackingState(models.TextChoices):
    IN_TRANSIT = "in_transit", _("in transit")
    SIGNED = "signed", _("signed for")
    PROBLEM = "problem", _("delivery problem")
    ERROR = "error", _("tracking query failed")


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
        CardType,
        verbose_name=pgettext_lazy("pickup", "card type"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    kind = models.CharField(_("delivery"), max_length=8, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    consumer_name = models.CharField(pgettext_lazy("person", "name"), max_length=30)
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
    # What the courier-tracking backend last said (pickup.tracking), and when.
    tracking_state = models.CharField(
        _("parcel status"), max_length=12, choices=TrackingState.choices, blank=True
    )
    tracking_detail = models.CharField(_("latest tracking event"), max_length=200, blank=True)
    tracking_checked_at = models.DateTimeField(_("tracking checked at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
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
                violation_error_message=_(
                    "Pickup code: already has an order that is not cancelled."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind="online", store__isnull=True)
                | Q(kind="store", store__isnull=False),
                name="pickup_order_store_iff_store_kind",
                violation_error_message=_(
                    "Pickup store: a store pickup order needs a store; a delivery order has none."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind="online") | ~Q(status="shipped"),
                name="pickup_order_only_online_ships",
                violation_error_message=_("Order status: only a delivery order can be shipped."),
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
    product_name = models.CharField(pgettext_lazy("pickup", "product name"), max_length=100)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("order product")
        verbose_name_plural = _("order products")
        ordering = ["id"]

    def __str__(self):
        return f"{self.product_name} × {self.quantity}"
