"""Redemptions (核销), their lines and returns, SMS verification, outside coupons (SPEC.md §6).

A redemption is one act at one store: a clerk at the counter (after an SMS check) or a POS client
over the signed API. Each redeemed coupon is a `RedemptionLine`; a line is returned (退券) at most
once — a conditional UPDATE ``WHERE returned_at IS NULL`` in the service, and a partial unique
constraint as the last line: a coupon has at most one live (unreturned) line.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.crypto import EncryptedTextField
from couponhub.core.models import Org
from couponhub.core.money import MoneyField
from coupons.models import Coupon
from members.models import Member, MemberOrder

MAX_COUPONS = 20


class Redemption(models.Model):
    class Method(models.TextChoices):
        SMS = "sms", _("SMS verification")
        SCAN = "scan", _("scan")
        API = "api", _("API")

    redemption_no = models.CharField(_("redemption number"), max_length=32, unique=True)
    # no index of its own: redemption_store_time_id starts with the store
    store = models.ForeignKey(
        Org,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="redemptions",
        db_index=False,
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    api_client = models.ForeignKey(
        "api.ApiClient",
        verbose_name=_("API client"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    app = models.CharField(_("redemption app"), max_length=60)
    method = models.CharField(_("redemption method"), max_length=10, choices=Method.choices)
    order = models.ForeignKey(
        MemberOrder,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    # The POS order number as the till reported it; the order row may arrive later.
    order_no = models.CharField(_("order number"), max_length=40, blank=True, db_index=True)
    # Why the order, when it arrived, was not linked: its coupons did not fit it (the till
    # redeemed against the number before the order came). Empty otherwise.
    link_refusal = models.CharField(_("why the order was not linked"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("redeemed at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        indexes = [
            # with the id: a store's redemptions newest first (and their lines) are read off the
            # index alone, not from a heap page each (a store's rows lie among every store's)
            models.Index(
                fields=["store", "-created_at"], include=["id"], name="redemption_store_time_id"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(clerk__isnull=False) | Q(api_client__isnull=False),
                name="redemption_has_actor",
                violation_error_message=_(
                    "Redemption: needs the clerk or the API client who made it."
                ),
            )
        ]

    def __str__(self):
        return self.redemption_no

    @property
    def operator_name(self) -> str:
        if self.clerk_id:
            return self.clerk.get_full_name() or self.clerk.get_username()
        return self.api_client.name if self.api_client_id else ""


class RedemptionLine(models.Model):
    redemption = models.ForeignKey(
        Redemption, verbose_name=_("redemption"), on_delete=models.PROTECT, related_name="lines"
    )
    coupon = models.ForeignKey(
        Coupon, verbose_name=_("coupon"), on_delete=models.PROTECT, related_name="redemption_lines"
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    returned_via = models.CharField(_("returned via"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("redemption line")
        verbose_name_plural = _("redemption lines")
        ordering = ["-redemption__created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["coupon"],
                condition=Q(returned_at__isnull=True),
                name="one_live_line_per_coupon",
                violation_error_message=_(
                    "Coupon: already redeemed and not returned; it cannot be redeemed twice."
                ),
            ),
            models.UniqueConstraint(
                fields=["redemption", "coupon"],
                name="line_once_per_coupon",
                violation_error_message=_("Coupon: appears twice in one redemption."),
            ),
        ]
        indexes = [
            # the counter's "returned today" on the home page
            models.Index(
                fields=["returned_at"],
                name="line_returned_at",
                condition=Q(returned_at__isnull=False),
            ),
            # 状态 退券 on the records page: a store's redemptions probe this small index for
            # their returned lines instead of reading every line of the store
            models.Index(
                fields=["redemption"],
                name="line_returned_redemption",
                condition=Q(returned_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.redemption_id}:{self.coupon_id}"

    @property
    def is_returned(self) -> bool:
        return self.returned_at is not None


class SmsChallenge(models.Model):
    """A 6-digit code sent to the member's phone, bound to member + store + selected coupons."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        USED = "used", _("used")
        DEAD = "dead", _("too many wrong tries")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=20, db_index=True)
    coupon_ids = models.JSONField(default=list)
    # The POS order chosen before the check (关联订单 up front), linked when the code is right.
    order = models.ForeignKey(
        MemberOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    code_hash = models.CharField(max_length=128)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SMS verification")
        verbose_name_plural = _("SMS verifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(attempts__lte=5),
                name="challenge_attempts_lte_5",
                violation_error_message=_("Verification code: no more than five attempts."),
            )
        ]

    def __str__(self):
        return f"{self.phone} {self.status}"


class SmsCodeSend(models.Model):
    """One verification SMS sent to a phone: the daily limit counts these."""

    phone = models.CharField(max_length=20)
    day = models.DateField()
    challenge = models.ForeignKey(SmsChallenge, on_delete=models.CASCADE, related_name="sends")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("verification code send")
        verbose_name_plural = _("verification code send")
        indexes = [models.Index(fields=["phone", "day"], name="smscode_phone_day")]

    def __str__(self):
        return f"{self.phone} {self.day}"


# --- outside coupons (seed 003) -------------------------------------------------------------------


class OutsideShop(models.Model):
    """A partner shop (e.g. 聚微量微商城) bound by its store id + secret."""

    org = models.ForeignKey(
        Org, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("shop name"), max_length=100)
    shop_id = models.CharField(_("store id"), max_length=60, unique=True)
    secret = EncryptedTextField(_("secret"))
    code_prefix = models.CharField(_("coupon number prefix"), max_length=5, default="J")
    # Where the shop is told that its coupon was redeemed (a subscriber of the outbound events,
    # kept by bind_shop): "" tells it nothing.
    callback_url = models.URLField(_("redemption notice URL"), max_length=500, blank=True)
    is_bound = models.BooleanField(_("bound"), default=True)
    bound_at = models.DateTimeField(_("bound at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outside shop")
        verbose_name_plural = _("outside shops")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def client_key(self) -> str:
        """How the signed API names this shop as a caller (idempotency keys are per caller)."""
        return f"shop:{self.shop_id}"


class OutsideShopNonce(models.Model):
    """A nonce a shop signed a push with, refused if it comes again within ten minutes."""

    shop = models.ForeignKey(OutsideShop, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("partner shop request nonce")
        verbose_name_plural = _("partner shop request nonce")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "nonce"],
                name="unique_outside_shop_nonce",
                violation_error_message=_("Nonce: this partner shop has already used this nonce."),
            )
        ]

    def __str__(self):
        return self.nonce


class OutsideActivity(models.Model):
    """A local outside-coupon activity (聚微量票券核销): one coupon type each."""

    class Type(models.TextChoices):
        CASH = "cash", _("cash voucher")
        ITEM = "item", _("item voucher")
        DEDUCTION = "deduction", _("deduction voucher")

    org = models.ForeignKey(
        Org, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("activity name"), max_length=100)
    coupon_type = models.CharField(_("coupon type"), max_length=10, choices=Type.choices)
    face_value = MoneyField(_("face value"), default=0)
    min_order_amount = MoneyField(
        pgettext_lazy("outside coupon", "minimum order amount"), default=0
    )
    per_order_limit = models.PositiveSmallIntegerField(_("coupons per order"), default=1)
    # an item coupon's dish, from the chain's product master
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("dish / product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    stores = models.ManyToManyField(Org, verbose_name=_("applicable stores"), related_name="+")
    valid_from = models.DateField(pgettext_lazy("outside coupon", "valid from"))
    valid_to = models.DateField(pgettext_lazy("outside coupon", "valid to"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outside-coupon activity")
        verbose_name_plural = _("outside-coupon activities")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(coupon_type="item") | Q(product__isnull=False),
                name="outside_item_has_product",
                violation_error_message=_("Dish / product: required for an item coupon."),
            ),
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")),
                name="outside_dates_ordered",
                violation_error_message=_("Valid to: cannot be before valid from."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def sku(self) -> str:
        return self.product.sku if self.product_id else ""


class OutsideProductMapping(models.Model):
    """The outside product (【60代100元票券抢购】) mapped to the local coupon (【100元代金券】)."""

    shop = models.ForeignKey(
        OutsideShop, verbose_name=_("outside shop"), on_delete=models.PROTECT, related_name="+"
    )
    product_id = models.CharField(_("outside product id"), max_length=60)
    product_name = models.CharField(_("outside product"), max_length=100)
    activity = models.ForeignKey(
        OutsideActivity,
        verbose_name=_("local coupon"),
        on_delete=models.PROTECT,
        related_name="mappings",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outside product mapping")
        verbose_name_plural = _("outside product mappings")
        ordering = ["shop", "product_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "product_id"],
                name="mapping_unique_product",
                violation_error_message=_(
                    "Outside product ID: this shop's product is already mapped."
                ),
            )
        ]

    def __str__(self):
        return f"{self.product_name} → {self.activity}"


class OutsideCoupon(models.Model):
    class Status(models.TextChoices):
        UNUSED = "unused", _("unused")
        USED = "used", _("used")
        VOIDED = "voided", _("voided")

    code = models.CharField(_("consumption number"), max_length=40, unique=True)
    shop = models.ForeignKey(
        OutsideShop, verbose_name=_("outside shop"), on_delete=models.PROTECT, related_name="+"
    )
    mapping = models.ForeignKey(
        OutsideProductMapping,
        verbose_name=_("outside product"),
        on_delete=models.PROTECT,
        related_name="coupons",
    )
    activity = models.ForeignKey(
        OutsideActivity,
        verbose_name=_("local coupon"),
        on_delete=models.PROTECT,
        related_name="coupons",
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UNUSED
    )
    sold_at = models.DateTimeField(_("sold at"), default=timezone.now)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_store = models.ForeignKey(
        Org,
        verbose_name=_("redeeming store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    order_no = models.CharField(_("order number"), max_length=40, blank=True)
    used_by = models.CharField(_("operator"), max_length=150, blank=True)
    # 退券 at the till, on the day of use and once: the coupon is unused again, this stays set
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_by = models.CharField(_("returned by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("outside coupon")
        verbose_name_plural = _("outside coupons")
        ordering = ["-sold_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="used") | Q(used_at__isnull=False),
                name="outside_used_has_time",
                violation_error_message=_(
                    "Redemption time: a redeemed outside coupon needs its redemption time."
                ),
            )
        ]

    def __str__(self):
        return self.code
