"""The chain's product master (seed 001 使用前提: 已设置食品类别、食品基础资料):
食品类别 in two levels and 食品基础资料 by SKU. One master serves coupon rules
(抵换食品, 不适用食品类别), outside-coupon activities, promo-code category limits and
the POS order items' categories."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.money import MoneyField


class Category(models.Model):
    """食品类别: a top-level category (饮品) or one under it (咖啡); two levels at most."""

    code = models.CharField(_("food category code"), max_length=30, unique=True)
    name = models.CharField(_("food category name"), max_length=50)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent food category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    enabled = models.BooleanField(_("enabled (food master)"), default=True)
    created_at = models.DateTimeField(_("created at (food master)"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at (food master)"), default=timezone.now)

    class Meta:
        verbose_name = _("food category")
        verbose_name_plural = _("food categories")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="product_category_not_own_parent",
                violation_error_message=_("Parent food category: a category cannot be its own."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def label(self) -> str:
        """The name with its parent's, as a picker shows it: 饮品 / 咖啡."""
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class Product(models.Model):
    """食品基础资料: one row per SKU, the code the tills and the shop send."""

    sku = models.CharField(_("food code"), max_length=40, unique=True)
    name = models.CharField(_("food name"), max_length=100)
    category = models.ForeignKey(
        Category,
        verbose_name=_("food category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit = models.CharField(_("unit (food)"), max_length=10, blank=True)
    price = MoneyField(_("sale price (food)"), null=True, blank=True)
    enabled = models.BooleanField(_("enabled (food master)"), default=True)
    created_at = models.DateTimeField(_("created at (food master)"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at (food master)"), default=timezone.now)

    class Meta:
        verbose_name = _("food")
        verbose_name_plural = _("food master data")
        ordering = ["sku"]
        indexes = [models.Index(fields=["category", "sku"], name="product_category_sku")]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="product_price_not_negative",
                violation_error_message=_("Sale price (food): cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"


class ProductImport(models.Model):
    """An uploaded 食品基础资料 file, imported by a background job: good rows are added or
    updated, bad rows go to the error file (the job's file in the download centre)."""

    job = models.OneToOneField(
        "core.Job", on_delete=models.CASCADE, related_name="product_import", null=True
    )
    file = models.FileField(_("file"), upload_to="imports/products/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("foods added"), default=0)
    updated_count = models.PositiveIntegerField(_("foods updated"), default=0)
    invalid_count = models.PositiveIntegerField(_("rows refused"), default=0)
    done = models.BooleanField(_("imported (food master)"), default=False)

    class Meta:
        verbose_name = _("food import")
        verbose_name_plural = _("food imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name
