"""Account top-ups paid online (seed 002 §1.3 短信充值 and §6.2 红包账户充值, "微信支付")."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.money import MoneyField


class TopUpOrder(models.Model):
    """One payment asked of the payment backend for a top-up. The account's balance rises only
    when a verified notice marks the order paid, exactly once (a conditional UPDATE from
    pending)."""

    class Purpose(models.TextChoices):
        SMS = "sms", _("SMS account top-up")
        RED_PACKETS = "red_packets", _("red packet account top-up")

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting payment")
        PAID = "paid", _("paid")
        FAILED = "failed", _("order failed")

    out_trade_no = models.CharField(_("payment order number"), max_length=32, unique=True)
    purpose = models.CharField(_("top-up of"), max_length=12, choices=Purpose.choices)
    amount = MoneyField(_("amount"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    backend = models.CharField(_("payment backend"), max_length=120)
    code_url = models.CharField(_("payment QR content"), max_length=300, blank=True)
    transaction_id = models.CharField(_("payment transaction number"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("top-up order")
        verbose_name_plural = _("top-up orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="pickup_topup_positive",
                violation_error_message=_("Top-up amount: must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | ~Q(transaction_id=""),
                name="pickup_topup_paid_has_transaction",
                violation_error_message=_(
                    "Transaction number: a paid top-up order needs the payment's "
                    "transaction number."
                ),
            ),
        ]

    def __str__(self):
        return self.out_trade_no

    @property
    def amount_fen(self) -> int:
        return int(self.amount * 100)
