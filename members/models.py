"""Members, their three append-only ledgers and their POS orders (SPEC.md §4).

A member's balances (U-value, points, stored value) are cached on the Member row and change only
through `members.services`, which writes the ledger entry and the cached balance in one
transaction. Check constraints keep every balance, and every entry's balance-after, at zero or
above, so even a buggy caller cannot drive a balance negative.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.models import Org
from couponhub.core.money import MoneyField


class MemberTag(models.Model):
    """A tag operators define and put on members (会员标签), to find them in the member list and
    to pick them for a member message."""

    name = models.CharField(_("tag name"), max_length=30)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("member tag")
        verbose_name_plural = _("member tags")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="member_tag_name_unique",
                violation_error_message=_("Tag name: this name is already used."),
            )
        ]

    def __str__(self):
        return self.name


class Member(models.Model):
    class Gender(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")
        UNKNOWN = "U", _("unknown")

    class Source(models.TextChoices):
        POS = "pos", _("traditional POS")
        MINI_PROGRAM = "mini_program", _("mini-program")
        MALL = "mall", _("online mall")
        IMPORT = "import", _("import")

    member_no = models.CharField(_("member ID"), max_length=20, unique=True)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, blank=True)
    phone = models.CharField(pgettext_lazy("member", "phone"), max_length=20, unique=True)
    card_no = models.CharField(_("card number"), max_length=30, unique=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN
    )
    registration_store = models.ForeignKey(
        Org,
        verbose_name=_("registration store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registered_members",
    )
    source = models.CharField(
        _("registration source"), max_length=20, choices=Source.choices, default=Source.POS
    )
    real_name_verified = models.BooleanField(_("real-name verified"), default=False)
    registered_at = models.DateTimeField(_("registered"), default=timezone.now)
    level = models.CharField(_("level"), max_length=20, blank=True)
    u_value = models.BigIntegerField(_("U-value"), default=0)
    points = models.BigIntegerField(_("points"), default=0)
    stored_value = MoneyField(_("stored value"), default=0)
    # replied T (回T退订) or asked at the counter: never sent a member message again; the
    # database default serves the member import's INSERT … SELECT
    sms_opt_out = models.BooleanField(
        _("opted out of marketing SMS"), default=False, db_default=False
    )
    tags = models.ManyToManyField(
        MemberTag, verbose_name=_("tags"), related_name="members", blank=True
    )

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-registered_at", "-id"]
        # the member list's order: its first page is read off the index, not sorted
        indexes = [models.Index(fields=["-registered_at", "-id"], name="member_list_order")]
        constraints = [
            models.CheckConstraint(
                condition=Q(u_value__gte=0),
                name="member_u_value_not_negative",
                violation_error_message=_("U-value: the balance cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(points__gte=0),
                name="member_points_not_negative",
                violation_error_message=_("Points: the balance cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(stored_value__gte=0),
                name="member_stored_value_not_negative",
                violation_error_message=_("Stored value: the balance cannot be below zero."),
            ),
        ]

    def __str__(self):
        return f"{self.name or self.member_no} ({self.card_no})"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("ledger entries are append-only")

    def delete(self):
        raise PermissionError("ledger entries are append-only")


class LedgerEntry(models.Model):
    """One change of a balance; never updated or deleted."""

    created_at = models.DateTimeField(_("time"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=100)
    ref_type = models.CharField(_("reference type"), max_length=40, blank=True)
    ref_id = models.CharField(_("reference"), max_length=64, blank=True)
    store = models.ForeignKey(
        Org,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.reason}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("ledger entries are append-only")


class UValueEntry(LedgerEntry):
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="u_value_entries"
    )
    delta = models.BigIntegerField(_("change"))
    balance_after = models.BigIntegerField(_("balance after"))

    class Meta(LedgerEntry.Meta):
        verbose_name = _("U-value entry")
        verbose_name_plural = _("U-value ledger")
        indexes = [models.Index(fields=["member", "-created_at"], name="uvalue_member_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0),
                name="uvalue_after_gte_0",
                violation_error_message=_(
                    "U-value: the balance after the change cannot be below zero."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(delta=0),
                name="uvalue_delta_not_zero",
                violation_error_message=_("U-value: the change cannot be zero."),
            ),
        ]


class PointsEntry(LedgerEntry):
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="points_entries"
    )
    delta = models.BigIntegerField(_("change"))
    balance_after = models.BigIntegerField(_("balance after"))

    class Meta(LedgerEntry.Meta):
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        indexes = [models.Index(fields=["member", "-created_at"], name="points_member_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0),
                name="points_after_gte_0",
                violation_error_message=_(
                    "Points: the balance after the change cannot be below zero."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(delta=0),
                name="points_delta_not_zero",
                violation_error_message=_("Points: the change cannot be zero."),
            ),
        ]


class StoredValueEntry(LedgerEntry):
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="stored_value_entries",
    )
    delta = MoneyField(_("change"))
    balance_after = MoneyField(_("balance after"))

    class Meta(LedgerEntry.Meta):
        verbose_name = _("stored-value entry")
        verbose_name_plural = _("stored-value ledger")
        indexes = [models.Index(fields=["member", "-created_at"], name="stored_member_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0),
                name="stored_after_gte_0",
                violation_error_message=_(
                    "Stored value: the balance after the change cannot be below zero."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(delta=0),
                name="stored_delta_not_zero",
                violation_error_message=_("Stored value: the change cannot be zero."),
            ),
        ]


class MemberOrder(models.Model):
    class Status(models.TextChoices):
        PAID = "paid", _("paid")
        REFUNDED = "refunded", _("refunded")

    order_no = models.CharField(pgettext_lazy("member", "order number"), max_length=40)
    source = models.CharField(_("source POS"), max_length=40, default="pos")
    store = models.ForeignKey(
        Org, verbose_name=_("store"), on_delete=models.PROTECT, related_name="member_orders"
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    traded_at = models.DateTimeField(_("trade time"))
    item_count = models.PositiveIntegerField(_("item count"), default=0)
    total = MoneyField(_("order total"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PAID
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)

    class Meta:
        verbose_name = _("member order")
        verbose_name_plural = _("member orders")
        ordering = ["-traded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "order_no"],
                name="order_no_unique_per_source",
                violation_error_message=_(
                    "Order number: this order number already exists for this source."
                ),
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0),
                name="order_total_gte_0",
                violation_error_message=_("Order total: cannot be below zero."),
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-traded_at"], name="order_member_time"),
            models.Index(fields=["store", "-traded_at"], name="order_store_time"),
        ]

    def __str__(self):
        return self.order_no


class MemberOrderItem(models.Model):
    order = models.ForeignKey(
        MemberOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="items"
    )
    sku = models.CharField(_("SKU"), max_length=40)
    name = models.CharField(_("product name"), max_length=100)
    category = models.CharField(_("category"), max_length=50, blank=True)
    qty = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    amount = MoneyField(_("amount"))

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        indexes = [models.Index(fields=["sku"], name="orderitem_sku")]

    def __str__(self):
        return f"{self.sku} {self.name}"


class MemberImport(models.Model):
    """An uploaded member file, imported by a background job."""

    job = models.OneToOneField(
        "core.Job", on_delete=models.CASCADE, related_name="member_import", null=True
    )
    file = models.FileField(_("file"), upload_to="imports/members/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("member import")
        verbose_name_plural = _("member imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name
