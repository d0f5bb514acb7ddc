"""Pickup codes (提货码): batches, the codes themselves, their imports and exports, and the
consumers' password attempts.

A code's `status` goes from unused to used exactly once (a conditional UPDATE), `shipped` /
`picked_up` follow its order, and `red_packet_amount` is what a red-packet allocation put on it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.crypto import EncryptedTextField
from couponhub.core.models import Job
from couponhub.core.money import MoneyField
from pickup.models.catalogue import CardType


class CodeFormat(models.TextChoices):
    DIGITS = "digits", _("digits")
    LETTERS = "letters", _("letters")
    MIXED = "mixed", _("digits and letters")


class CodeBatch(models.Model):
    """One generation (or import) of pickup codes: its parameters and reserved serial range."""

    class Source(models.TextChoices):
        GENERATED = "generated", pgettext_lazy("pickup", "generated")
        IMPORTED = "imported", pgettext_lazy("pickup", "imported")

    card_type = models.ForeignKey(
        CardType,
        verbose_name=pgettext_lazy("pickup", "card type"),
        on_delete=models.PROTECT,
        related_name="batches",
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
    # Cards sold over the counter: the codes are made not activated and work once the store
    # (or its POS) activates them at sale.
    needs_activation = models.BooleanField(_("activated at sale"), default=False)
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
    # Indexed with the serial (Meta.indexes), not alone: the list filtered by either reads its
    # page and its capped count in serial order straight off the index.
    card_type = models.ForeignKey(
        CardType,
        verbose_name=pgettext_lazy("pickup", "card type"),
        on_delete=models.PROTECT,
        related_name="codes",
        db_index=False,
    )
    batch = models.ForeignKey(
        CodeBatch,
        verbose_name=_("batch"),
        on_delete=models.PROTECT,
        related_name="codes",
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.UNUSED
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # False for a card of a batch sold at the counter until the sale activates it; the database
    # default lets a COPY leave it out.
    activated = models.BooleanField(_("activated"), default=True, db_default=True)
    used_at = models.DateTimeField(pgettext_lazy("pickup", "used at"), null=True, blank=True)
    shipped = models.BooleanField(_("shipped"), default=False)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    picked_up = models.BooleanField(_("picked up"), default=False)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    red_packet_amount = MoneyField(_("red packet"), default=0)

    class Meta:
        verbose_name = _("pickup code")
        verbose_name_plural = _("pickup codes")
        ordering = ["serial"]
        # For the code list at ten million rows (docs/architecture.md, "List pages at any
        # size"). A new code is unused and enabled, so it enters neither partial index:
        # generation pays for the two composite ones only, as it paid for the two FK indexes
        # they replace.
        indexes = [
            models.Index(fields=["batch", "serial"], name="pickup_code_batch_serial"),
            models.Index(fields=["card_type", "serial"], name="pickup_code_cardtype_serial"),
            models.Index(
                fields=["serial"], condition=Q(status="used"), name="pickup_code_used_serial"
            ),
            models.Index(
                fields=["serial"], condition=Q(enabled=False), name="pickup_code_disabled_serial"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                name="pickup_code_unique",
                violation_error_message=_("Pickup code: already exists."),
            ),
            models.CheckConstraint(
                condition=Q(red_packet_amount__gte=0),
                name="pickup_code_red_packet_gte_0",
                violation_error_message=_("Red packet amount: cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(status="used") | Q(picked_up=False, shipped=False),
                name="pickup_code_delivery_needs_use",
                violation_error_message=_(
                    "Pickup code: an unused code cannot be picked up or shipped."
                ),
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
        DONE = "done", pgettext_lazy("pickup", "imported")
        FAILED = "failed", _("failed")

    card_type = models.ForeignKey(
        CardType,
        verbose_name=pgettext_lazy("pickup", "card type"),
        on_delete=models.PROTECT,
        related_name="+",
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
    imported = models.PositiveIntegerField(pgettext_lazy("pickup", "imported"), default=0)
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
