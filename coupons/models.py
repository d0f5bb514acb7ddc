"""Coupon rules (券注册发行), campaigns and coupons (SPEC.md §5, seed 001).

Status of a coupon, and what "expired" means
--------------------------------------------
A coupon is stored with one of the statuses below. Physical coupons start as GENERATED, become
RECEIVED (领用, to a store) and then UNUSED once distributed (发放); electronic coupons start as
UNUSED. A coupon past its `valid_to` counts as expired everywhere at once, whatever a nightly job
has done: read the *effective* status through `CouponQuerySet.with_effective_status()` /
`Coupon.effective_status`, and test usability with `CouponQuerySet.usable_at(store)` /
`Coupon.is_usable_at(store)`. `coupons.services.expire_overdue_coupons` only tidies the stored
status up.

Redemption is a conditional UPDATE ``status='unused' → 'used'`` (see `Coupon.redeemable_q`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.models import Org
from couponhub.core.money import MoneyField
from members.models import Member

RECHARGE_MIN_LEN = 15
RECHARGE_MAX_LEN = 20


class CouponRule(models.Model):
    class Medium(models.TextChoices):
        ELECTRONIC = "electronic", _("electronic coupon")
        PHYSICAL = "physical", _("physical coupon")

    class Kind(models.TextChoices):
        ORDINARY = "ordinary", _("ordinary coupon")
        MARKETING = "marketing", _("marketing coupon")
        U_VALUE_EXCHANGE = "u_value_exchange", _("U-value exchange coupon")

    class Benefit(models.TextChoices):
        CASH = "cash", _("cash coupon")
        DISCOUNT = "discount", _("discount coupon")
        PRODUCT = "product", _("product coupon")
        RECHARGE = "recharge", _("recharge coupon")

    class ValidityType(models.TextChoices):
        DAYS = "days", _("days after receipt")
        FIXED = "fixed", _("fixed end date")

    class CodeMode(models.TextChoices):
        SEQUENTIAL = "sequential", _("sequential number")
        RANDOM = "random", _("random with check character")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        CREATED = "created", pgettext_lazy("coupon rule status", "created")
        IN_REVIEW = "in_review", _("in review")
        APPROVED = "approved", pgettext_lazy("coupon rule status", "approved")

    # --- coupon info ---------------------------------------------------------------------------
    code = models.CharField(_("rule code"), max_length=30, unique=True)
    name = models.CharField(_("coupon name"), max_length=100)
    creating_org = models.ForeignKey(
        Org, verbose_name=_("creating organisation"), on_delete=models.PROTECT, related_name="+"
    )
    usable_orgs = models.ManyToManyField(
        Org, verbose_name=_("usable organisations"), related_name="usable_coupon_rules"
    )
    medium = models.CharField(
        _("coupon medium"), max_length=12, choices=Medium.choices, default=Medium.ELECTRONIC
    )
    kind = models.CharField(
        _("coupon kind"), max_length=20, choices=Kind.choices, default=Kind.ORDINARY
    )
    # Physical coupons sold at the counter: generated not activated, usable once the sale
    # activates them (coupons.services.activation).
    needs_activation = models.BooleanField(_("activated at sale"), default=False)
    claim_deadline = models.DateField(_("latest claim date"), null=True, blank=True)
    sale_price = MoneyField(_("sale price"), null=True, blank=True)
    reference_type = models.CharField(_("rule reference type"), max_length=40, blank=True)
    transferable = models.BooleanField(_("transferable to friends"), default=False)
    u_value_price = models.PositiveIntegerField(_("U-value price"), null=True, blank=True)
    description = models.CharField(_("benefit description"), max_length=200, blank=True)

    # --- benefit -------------------------------------------------------------------------------
    benefit = models.CharField(
        _("benefit method"), max_length=10, choices=Benefit.choices, default=Benefit.CASH
    )
    face_value = MoneyField(pgettext_lazy("coupon", "face value"), null=True, blank=True)
    discount_rate = models.DecimalField(
        _("discount rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # 抵换食品 and 不适用食品类别 come from the product master (seed 001: 从食品列表基础资料中选择)
    exchange_product = models.ForeignKey(
        "products.Product",
        verbose_name=_("exchange product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    excluded_categories = models.ManyToManyField(
        "products.Category",
        verbose_name=_("excluded product categories"),
        blank=True,
        related_name="+",
    )
    # empty only in a 暂存 draft, which needs no more than a name (a check constraint below)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    min_order_amount = MoneyField(_("minimum order amount"), default=0)
    per_member_limit = models.PositiveIntegerField(
        _("claim limit per member"), default=0, help_text=_("0 means no limit")
    )
    validity_type = models.CharField(
        _("validity type"), max_length=5, choices=ValidityType.choices, default=ValidityType.FIXED
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(_("valid days"), null=True, blank=True)

    # --- code rule -----------------------------------------------------------------------------
    code_mode = models.CharField(
        _("code mode"), max_length=10, choices=CodeMode.choices, default=CodeMode.SEQUENTIAL
    )
    code_prefix = models.CharField(_("prefix"), max_length=10, blank=True)
    code_suffix = models.CharField(_("suffix"), max_length=10, blank=True)
    numeric_length = models.PositiveSmallIntegerField(_("numeric length"), default=8)
    total = models.PositiveIntegerField(_("total quantity"))
    start_value = models.BigIntegerField(_("start value"), default=0)
    end_value = models.BigIntegerField(_("end value"), editable=False, default=0)
    issued_count = models.PositiveIntegerField(_("issued count"), default=0, editable=False)
    recharge_number_length = models.PositiveSmallIntegerField(
        _("recharge number length"), null=True, blank=True
    )
    generated_count = models.PositiveIntegerField(_("generated count"), default=0, editable=False)

    # --- audit ---------------------------------------------------------------------------------
    status = models.CharField(
        _("data status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    reject_reason = models.CharField(_("rejection reason"), max_length=200, blank=True)
    is_disabled = models.BooleanField(_("disabled"), default=False)
    is_invalidated = models.BooleanField(_("invalidated"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("creator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modifier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    modified_at = models.DateTimeField(_("modified"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(pgettext_lazy("date", "approved"), null=True, blank=True)
    invalidated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invalidator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    invalidated_at = models.DateTimeField(
        pgettext_lazy("date", "invalidated"), null=True, blank=True
    )
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("disabled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon rule")
        verbose_name_plural = _("coupon rules")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_count__lte=models.F("total")),
                name="rule_issued_lte_total",
                violation_error_message=_(
                    "Total quantity: cannot be less than the coupons already issued."
                ),
            ),
            models.CheckConstraint(
                condition=Q(generated_count__lte=models.F("total")),
                name="rule_generated_lte_total",
                violation_error_message=_(
                    "Total quantity: cannot be less than the coupons already generated."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(total__gt=0, effective_date__isnull=False),
                name="rule_complete_unless_draft",
                violation_error_message=_(
                    "Total quantity and effective date: a rule that is not a draft needs a "
                    "total greater than zero and an effective date."
                ),
            ),
            models.CheckConstraint(
                condition=Q(medium="electronic") | Q(kind="ordinary"),
                name="rule_physical_ordinary",
                violation_error_message=_(
                    "Coupon kind: a physical coupon can only be an ordinary coupon."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(benefit="recharge") | Q(medium="physical", kind="ordinary"),
                name="rule_recharge_physical_ordinary",
                violation_error_message=_(
                    "Benefit method: a recharge coupon must be a physical ordinary coupon."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    # --- derived -------------------------------------------------------------------------------
    @property
    def is_electronic(self) -> bool:
        return self.medium == self.Medium.ELECTRONIC

    @property
    def is_physical(self) -> bool:
        return self.medium == self.Medium.PHYSICAL

    def compute_end_value(self) -> int:
        return self.start_value + self.total - 1

    def format_code(self, number: int) -> str:
        return f"{self.code_prefix}{number:0{self.numeric_length}d}{self.code_suffix}"

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.issued_count)

    def issuance_refusal(self, today=None) -> str | None:
        """Why this rule may not issue coupons now (Chinese), or None when it may."""
        today = today or timezone.localdate()
        if self.status != self.Status.APPROVED:
            return "券规则未审核，不能发券"
        if self.is_disabled:
            return "券规则已禁用，不能发券"
        if self.is_invalidated:
            return "券规则已失效，不能发券"
        if self.validity_type == self.ValidityType.FIXED and self.valid_until < today:
            return "券规则已过有效期，不能发券"
        return None

    def value_label(self) -> str:
        """¥20.00 / 9.5折 / the product name, as a coupon card shows the value."""
        if self.benefit in (self.Benefit.CASH, self.Benefit.RECHARGE) and self.face_value:
            return f"¥{self.face_value:,.2f}"
        if self.benefit == self.Benefit.DISCOUNT and self.discount_rate is not None:
            zhe = (self.discount_rate / 10).normalize()
            return f"{zhe:f}折"
        if self.benefit == self.Benefit.PRODUCT:
            return self.exchange_product.name if self.exchange_product_id else "商品券"
        return ""


class Campaign(models.Model):
    class Channel(models.TextChoices):
        POINTS_MALL = "points_mall", _("points mall")
        MINI_PROGRAM = "mini_program", _("mini-program")
        WECHAT = "wechat", _("WeChat official account")
        STORE = "store", _("in store")
        OPERATOR = "operator", _("operator gift")

    code = models.CharField(_("campaign code"), max_length=30, unique=True)
    name = models.CharField(_("campaign name"), max_length=100)
    rule = models.ForeignKey(
        CouponRule,
        verbose_name=_("coupon rule"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    u_value_price = models.PositiveIntegerField(_("U-value price"), null=True, blank=True)
    starts_on = models.DateField(_("start date"))
    ends_on = models.DateField(_("end date"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="campaign_dates_ordered",
                violation_error_message=_("End date: cannot be before the start date."),
            )
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def effective_u_value_price(self) -> int | None:
        return self.u_value_price if self.u_value_price is not None else self.rule.u_value_price


class CouponQuerySet(models.QuerySet):
    def expired_q(self, now=None) -> Q:
        """Stored as expired, or unused and past valid_to (expired everywhere at once)."""
        now = now or timezone.now()
        return Q(status=Coupon.Status.EXPIRED) | Q(status=Coupon.Status.UNUSED, valid_to__lt=now)

    def expired(self, now=None):
        return self.filter(self.expired_q(now))

    def not_expired_unused(self, now=None):
        now = now or timezone.now()
        return self.filter(status=Coupon.Status.UNUSED, valid_to__gte=now)

    def with_effective_status(self, now=None):
        now = now or timezone.now()
        return self.annotate(
            effective_status_db=Case(
                When(status=Coupon.Status.UNUSED, valid_to__lt=now, then=Value("expired")),
                default=models.F("status"),
                output_field=models.CharField(),
            )
        )

    def usable_at(self, store: Org, now=None):
        """Unused, inside the validity window, and the store is among the rule's usable orgs."""
        now = now or timezone.now()
        return self.filter(Coupon.usable_q(store, now))


class Coupon(models.Model):
    class Status(models.TextChoices):
        GENERATED = "generated", _("generated")
        RECEIVED = "received", pgettext_lazy("coupon status", "received")
        UNUSED = "unused", _("unused")
        USED = "used", _("used")
        EXPIRED = "expired", _("expired")
        VOIDED = "voided", _("voided")
        FROZEN = "frozen", _("frozen")

    class Channel(models.TextChoices):
        CLAIM = "claim", _("claim")
        PURCHASE = "purchase", _("purchase")
        GIFT = "gift", _("gift")
        U_VALUE_EXCHANGE = "u_value_exchange", _("U-value exchange")
        TRANSFER = "transfer", _("transfer")
        PHYSICAL = "physical", _("physical distribution")

    # Indexed with the id (Meta.indexes), not alone: the coupon list of one rule is read newest
    # first straight off the index.
    rule = models.ForeignKey(
        CouponRule,
        verbose_name=_("coupon rule"),
        on_delete=models.PROTECT,
        related_name="coupons",
        db_index=False,
    )
    code = models.CharField(_("coupon code"), max_length=40, unique=True)
    number = models.BigIntegerField(_("serial number"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    status_before_freeze = models.CharField(max_length=10, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupons",
    )
    # no index of its own: coupon_member_status (member, status, valid_to) serves "by member"
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupons",
        db_index=False,
    )
    customer_name = models.CharField(_("customer"), max_length=100, blank=True)
    store = models.ForeignKey(
        Org,
        verbose_name=_("receiving store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="received_coupons",
    )
    obtained_at = models.DateTimeField(_("obtained"), null=True, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    recharge_no = models.CharField(_("recharge number"), max_length=20, null=True, blank=True)
    # A physical coupon of a rule sold at the counter is usable once its sale activates it.
    activated = models.BooleanField(_("activated"), default=True, db_default=True)
    price_paid = MoneyField(_("price paid"), null=True, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=20, blank=True)
    u_value_paid = models.PositiveIntegerField(_("U-value paid"), null=True, blank=True)
    transferred_from = models.ForeignKey(
        Member,
        verbose_name=_("transferred from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_store = models.ForeignKey(
        Org,
        verbose_name=_("redeeming store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redeemed_coupons",
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = CouponQuerySet.as_manager()

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "number"],
                condition=Q(number__isnull=False),
                name="coupon_rule_number_unique",
                violation_error_message=_(
                    "Serial number: this rule already has a coupon with this number."
                ),
            ),
            models.UniqueConstraint(
                fields=["recharge_no"],
                condition=Q(recharge_no__isnull=False),
                name="coupon_recharge_no_unique",
                violation_error_message=_(
                    "Recharge coupon number: already used by another coupon."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status="used") | Q(used_at__isnull=False),
                name="coupon_used_has_time",
                violation_error_message=_(
                    "Redemption time: a redeemed coupon needs its redemption time."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["generated", "received"])
                | Q(valid_to__isnull=False, valid_from__isnull=False),
                name="coupon_issued_has_validity",
                violation_error_message=_(
                    "Validity: an issued coupon needs its valid-from and valid-to times."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["member", "status", "valid_to"], name="coupon_member_status"),
            models.Index(fields=["rule", "status"], name="coupon_rule_status"),
            models.Index(fields=["rule", "id"], name="coupon_rule_id"),
        ]

    def __str__(self):
        return self.code

    # --- status and usability ------------------------------------------------------------------
    @staticmethod
    def usable_q(store: Org, now) -> Q:
        """Q for coupons usable at `store` now (unused, in window, store among usable orgs)."""
        ancestor_ids = store_ancestor_ids(store)
        return Q(
            status=Coupon.Status.UNUSED, activated=True, valid_from__lte=now, valid_to__gte=now
        ) & Q(
            Exists(
                CouponRule.usable_orgs.through.objects.filter(
                    couponrule_id=OuterRef("rule_id"), org_id__in=ancestor_ids
                )
            )
        )

    @staticmethod
    def redeemable_q(store: Org, now=None) -> Q:
        """The WHERE of the conditional UPDATE that redeems: usable at the store right now."""
        return Coupon.usable_q(store, now or timezone.now())

    def effective_status(self, now=None) -> str:
        now = now or timezone.now()
        if self.status == self.Status.UNUSED and self.valid_to is not None and self.valid_to < now:
            return self.Status.EXPIRED
        return self.status

    def get_effective_status_display(self, now=None) -> str:
        return str(self.Status(self.effective_status(now)).label)

    def is_usable_at(self, store: Org, now=None) -> bool:
        return self.unusable_reason(store, now) is None

    def unusable_reason(self, store: Org, now=None) -> str | None:
        """Why this coupon cannot be used at `store` now (Chinese), or None if it can."""
        now = now or timezone.now()
        status = self.effective_status(now)
        reasons = {
            self.Status.GENERATED: "券尚未领用发放，不能使用",
            self.Status.RECEIVED: "券尚未发放，不能使用",
            self.Status.USED: "券已使用",
            self.Status.EXPIRED: "券已过期",
            self.Status.VOIDED: "券已作废",
            self.Status.FROZEN: "券已冻结",
        }
        if status in reasons:
            return reasons[status]
        if not self.activated:
            return "实物券尚未激活（售出时由门店或收银机激活），不能使用"
        if self.valid_from and self.valid_from > now:
            return "券尚未生效"
        ancestor_ids = set(store_ancestor_ids(store))
        # a redemption reads the ids with the coupon (`usable_org_ids`), sparing a query
        usable = getattr(self, "usable_org_ids", None)
        if usable is None:
            usable = [o.pk for o in self.rule.usable_orgs.all()]
        if not set(usable) & ancestor_ids:
            return f"{store.name}不能使用该券"
        return None


def store_ancestor_ids(store: Org) -> list[int]:
    """The ids of the store and every node above it, read from its materialised path."""
    return [int(part) for part in store.path.strip("/").split("/") if part]
