"""Red packets (seed 002 §六): limits, the account and its ledger, claims and payouts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.money import MoneyField
from pickup.models.catalogue import CardType
from pickup.models.codes import PickupCode
from pickup.models.orders import PickupOrder


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
            models.CheckConstraint(
                condition=Q(balance__gte=0),
                name="pickup_rp_balance_gte_0",
                violation_error_message=_("Red packet balance: cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0),
                name="pickup_rp_reserved_gte_0",
                violation_error_message=_("Reserved amount: cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(
                    top_ups_total=models.F("balance")
                    + models.F("reserved")
                    + models.F("spent_total")
                ),
                name="pickup_rp_account_adds_up",
                violation_error_message=_(
                    "Red packet account: top-ups must equal balance, reserved and spent together."
                ),
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
    # The generation job that wrote a reservation: its re-run goes on from what is stored.
    job = models.ForeignKey(
        "core.Job",
        verbose_name=_("background job"),
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
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="pickup_rp_entry_positive",
                violation_error_message=_("Amount: must be greater than zero."),
            )
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
        CardType,
        verbose_name=pgettext_lazy("pickup", "card type"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    user_phone = models.CharField(pgettext_lazy("pickup", "user"), max_length=20)
    user_name = models.CharField(pgettext_lazy("person", "name"), max_length=30, blank=True)
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
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="pickup_rp_claim_positive",
                violation_error_message=_("Red packet amount: must be greater than zero."),
            )
        ]

    def __str__(self):
        return f"{self.user_phone} {self.amount}"


class RedPacketPayout(models.Model):
    """The payout ledger: what the payment backend was asked to pay, and what it answered."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("pickup", "pending")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")

    claim = models.OneToOneField(
        RedPacketClaim,
        verbose_name=pgettext_lazy("pickup", "claim"),
        on_delete=models.PROTECT,
        related_name="payout",
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
