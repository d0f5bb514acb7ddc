from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couponhub.core.crypto import EncryptedTextField
from couponhub.core.models import Org


class ApiClient(models.Model):
    """A POS system, shop or mini-program that calls the signed API."""

    name = models.CharField(_("name"), max_length=100)
    client_id = models.CharField(_("client id"), max_length=40, unique=True)
    secret = EncryptedTextField(_("secret"))
    store = models.ForeignKey(
        Org, verbose_name=_("store"), on_delete=models.PROTECT, related_name="api_clients"
    )
    auto_return = models.BooleanField(
        _("auto return"),
        default=False,
        help_text=_("Return an order's coupons automatically when the order is refunded."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.client_id})"

    @property
    def client_key(self) -> str:
        """How the signed API names this client as a caller (idempotency keys are per caller)."""
        return self.client_id


class ApiNonce(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("API request nonce")
        verbose_name_plural = _("API request nonce")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "nonce"],
                name="unique_client_nonce",
                violation_error_message=_("Nonce: this API client has already used this nonce."),
            )
        ]

    def __str__(self):
        return self.nonce
