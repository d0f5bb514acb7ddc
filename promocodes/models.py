"""Promo codes (SPEC.md §8): channels, departments and budgets, finance limits, applications,
codes and their uses."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.models import Org
from couponhub.core.money import MoneyField
from promocodes.discounts import DiscountRule, describe


class Department(models.Model):
    """A department that applies for promo codes and bears the cost of platform codes."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(_("code"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self):
        return self.name


class DepartmentBudget(models.Model):
    """A department's promo-code budget for one period; `spent` is charged by every use."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="budgets"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    amount = MoneyField(_("budget"))
    spent = MoneyField(_("spent"), default=0)

    class Meta:
        verbose_name = _("department budget")
        verbose_name_plural = _("department budgets")
        ordering = ["department__code", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "period_start"],
                name="promo_budget_unique_period",
                violation_error_message=_(
                    "Period start: this department already has a budget for this period."
                ),
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="promo_budget_period_order",
                violation_error_message=_("Period end: cannot be before the period start."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="promo_budget_amount_gte_0",
                violation_error_message=_("Budget: cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(spent__gte=0),
                name="promo_budget_spent_gte_0",
                violation_error_message=_("Spent: cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(spent__lte=F("amount")),
                name="promo_budget_spent_lte_amount",
                violation_error_message=_("Budget: cannot be less than what is already spent."),
            ),
        ]

    def __str__(self):
        return f"{self.department} {self.period_start}~{self.period_end}"

    @property
    def remaining(self):
        return self.amount - self.spent


class StaffDepartment(models.Model):
    """Which department a staff user belongs to (the form's default applying department)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="promo_department"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="staff"
    )

    class Meta:
        verbose_name = _("staff department")
        verbose_name_plural = _("staff departments")

    def __str__(self):
        return f"{self.user} → {self.department}"


class Merchant(models.Model):
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Channel(models.Model):
    class Status(models.TextChoices):
        INITIAL = "initial", _("initial")
        ENABLED = "enabled", _("enabled")
        DISABLED = "disabled", pgettext_lazy("promo code", "disabled")

    name = models.CharField(_("channel name"), max_length=100, unique=True)
    prefix = models.CharField(
        pgettext_lazy("promo code", "code prefix"), max_length=10, unique=True
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("responsible department"),
        on_delete=models.PROTECT,
        related_name="channels",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.INITIAL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("promo code", "channel")
        verbose_name_plural = _("channels")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    # 初始 → 启用 ↔ 禁用
    TRANSITIONS = {
        "enable": ({Status.INITIAL, Status.DISABLED}, Status.ENABLED),
        "disable": ({Status.ENABLED}, Status.DISABLED),
    }


class FinanceLimits(models.Model):
    """优惠力度设置: one row (pk=1) of finance-wide caps on promo code generosity."""

    min_discount_rate = models.DecimalField(
        _("lowest discount rate (%)"), max_digits=5, decimal_places=2, default=50
    )
    max_direct_amount = MoneyField(_("highest direct amount"), default=50)
    max_threshold_ratio = models.DecimalField(
        _("highest threshold ratio (discount / threshold)"),
        max_digits=5,
        decimal_places=4,
        default="0.5",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("finance limits")
        verbose_name_plural = _("finance limits")
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=1),
                name="promo_finance_limits_singleton",
                violation_error_message=_("Finance limits: there is only one set."),
            ),
            models.CheckConstraint(
                condition=Q(min_discount_rate__gt=0, min_discount_rate__lte=100),
                name="promo_finance_limits_rate_range",
                violation_error_message=_("Lowest discount rate: must be above 0 and at most 100."),
            ),
            models.CheckConstraint(
                condition=Q(max_threshold_ratio__gte=0, max_threshold_ratio__lte=1),
                name="promo_finance_limits_ratio_range",
                violation_error_message=_("Highest threshold ratio: must be between 0 and 1."),
            ),
        ]

    def __str__(self):
        return str(_("finance limits"))

    @classmethod
    def current(cls) -> "FinanceLimits":
        limits, _created = cls.objects.get_or_create(pk=1)
        return limits


class Subject(models.TextChoices):
    PLATFORM = "platform", pgettext_lazy("promo code subject", "platform")
    MERCHANT = "merchant", _("merchant")


class Generation(models.TextChoices):
    MANUAL = "manual", _("manual entry")
    AUTO = "auto", _("automatic")


class DiscountType(models.TextChoices):
    PERCENT = "percent", _("percent off")
    DIRECT = "direct", _("direct amount off")
    THRESHOLD = "threshold", _("amount off above a threshold")


class UserLevel(models.TextChoices):
    ANY = "any", _("any user")
    NEW_USER_FIRST = "new_user_first", _("new user's first order")
    NEW_ONLINE_USER_FIRST = "new_online_user_first", _("new online user's first order")


class Platform(models.TextChoices):
    ANY = "any", _("any platform")
    M = "m", _("M page")
    APP = "app", _("app")


class Delivery(models.TextChoices):
    ANY = "any", _("any delivery")
    PICKUP = "pickup", _("pickup")
    DELIVERY = "delivery", pgettext_lazy("promo code", "delivery")


class SaleType(models.TextChoices):
    ANY = "any", _("any sales type")
    NORMAL = "normal", _("normal")
    PRESALE = "presale", _("presale")


class ApplicationQuerySet(models.QuerySet):
    def with_display_status(self, status: str, now=None):
        """Filter by the status a person sees (有效/无效 come from the validity window)."""
        return self.filter(display_status_q(status, now))


def display_status_q(status: str, now=None) -> Q:
    """The applications a person sees in `status` (有效/无效 come from the validity window)."""
    now = now or timezone.now()
    S = PromoCodeApplication.Status
    D = PromoCodeApplication.DisplayStatus
    if status == D.ACTIVE:
        return Q(status=S.APPROVED, valid_from__lte=now, valid_to__gt=now)
    if status == D.INACTIVE:
        return Q(status=S.INVALIDATED) | Q(status=S.APPROVED, valid_to__lte=now)
    if status == D.APPROVED:
        return Q(status=S.APPROVED, valid_from__gt=now)
    return Q(status=status)


class PromoCodeApplication(models.Model):
    # The manual's words (初始/待审核/审核通过/审核驳回/有效/无效) under a context of their own:
    # "approved" and "active" read 已审核 and 启用 in other apps' catalogues.
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("promo code status", "initial")
        PENDING = "pending", pgettext_lazy("promo code status", "pending review")
        APPROVED = "approved", pgettext_lazy("promo code status", "approved")
        REJECTED = "rejected", pgettext_lazy("promo code status", "rejected")
        INVALIDATED = "invalidated", pgettext_lazy("promo code status", "manually invalidated")

    class DisplayStatus(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("promo code status", "initial")
        PENDING = "pending", pgettext_lazy("promo code status", "pending review")
        APPROVED = "approved", pgettext_lazy("promo code status", "approved")
        REJECTED = "rejected", pgettext_lazy("promo code status", "rejected")
        ACTIVE = "active", pgettext_lazy("promo code status", "active")
        INACTIVE = "inactive", pgettext_lazy("promo code status", "inactive")

    org = models.ForeignKey(
        Org,
        verbose_name=_("applying organisation"),
        on_delete=models.PROTECT,
        related_name="promo_applications",
    )
    subject = models.CharField(_("subject"), max_length=10, choices=Subject.choices)
    channel = models.ForeignKey(
        Channel,
        verbose_name=pgettext_lazy("promo code", "channel"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("applying department"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    activity_name = models.CharField(_("activity name"), max_length=100)
    generation = models.CharField(_("generation"), max_length=10, choices=Generation.choices)
    quantity = models.PositiveIntegerField(_("number of codes"), default=1)
    manual_code = models.CharField(_("manual code"), max_length=32, blank=True)

    discount_type = models.CharField(
        _("discount type"), max_length=10, choices=DiscountType.choices
    )
    discount_rate = models.DecimalField(
        pgettext_lazy("promo code", "discount rate (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    floor_amount = MoneyField(_("lower limit"), default=0)
    cap_amount = MoneyField(_("upper limit"), default=0)
    direct_amount = MoneyField(_("amount off"), default=0)
    threshold_amount = MoneyField(_("threshold amount"), default=0)

    merchant = models.ForeignKey(
        Merchant,
        verbose_name=_("merchant restriction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # 使用品类限制: a category of the chain's product master (its sub-categories count too); the
    # merchant restriction (needed first, seed 004) already keeps the items to that merchant's
    category = models.ForeignKey(
        "products.Category",
        verbose_name=_("category restriction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    stores = models.ManyToManyField(
        Org, verbose_name=_("store restriction"), blank=True, related_name="+"
    )
    max_uses = models.PositiveIntegerField(_("max uses"), default=0)
    per_user_limit = models.PositiveIntegerField(_("uses per user"), default=0)
    user_level = models.CharField(
        _("user level"), max_length=25, choices=UserLevel.choices, default=UserLevel.ANY
    )
    platform = models.CharField(
        _("platform"), max_length=10, choices=Platform.choices, default=Platform.ANY
    )
    delivery = models.CharField(
        pgettext_lazy("promo code", "delivery"),
        max_length=10,
        choices=Delivery.choices,
        default=Delivery.ANY,
    )
    sale_type = models.CharField(
        _("sales type"), max_length=10, choices=SaleType.choices, default=SaleType.ANY
    )
    valid_from = models.DateTimeField(pgettext_lazy("promo code", "valid from"))
    valid_to = models.DateTimeField(pgettext_lazy("promo code", "valid to"))
    remarks = models.TextField(_("remarks"), blank=True)

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    rejection_reason = models.CharField(_("rejection reason"), max_length=200, blank=True)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    invalidated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invalidated_at = models.DateTimeField(
        pgettext_lazy("promo code", "invalidated"), null=True, blank=True
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("promo code application")
        verbose_name_plural = _("promo code applications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gt=F("valid_from")),
                name="promo_app_valid_window",
                violation_error_message=_("Valid to: must be after valid from."),
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="promo_app_quantity_gte_1",
                violation_error_message=_("Number of codes: at least one."),
            ),
            models.CheckConstraint(
                condition=Q(category__isnull=True) | Q(merchant__isnull=False),
                name="promo_app_category_needs_merchant",
                violation_error_message=_("Category restriction: restrict the merchant first."),
            ),
            models.CheckConstraint(
                condition=Q(subject="platform") | Q(merchant__isnull=False),
                name="promo_app_merchant_subject_has_merchant",
                violation_error_message=_(
                    "Merchant restriction: a merchant-borne code needs its merchant."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.activity_name}"

    @property
    def number(self) -> str:
        return f"YHM{self.pk or 0:06d}"

    def display_status(self, now=None) -> str:
        """初始/待审核/审核通过/审核驳回, then 有效/无效 by the validity window or 手动失效."""
        now = now or timezone.now()
        if self.status == self.Status.INVALIDATED:
            return self.DisplayStatus.INACTIVE
        if self.status == self.Status.APPROVED:
            if now >= self.valid_to:
                return self.DisplayStatus.INACTIVE
            if now >= self.valid_from:
                return self.DisplayStatus.ACTIVE
        return self.status

    def get_display_status_display(self) -> str:
        return self.DisplayStatus(self.display_status()).label

    @property
    def rule(self) -> DiscountRule:
        return DiscountRule(
            discount_type=self.discount_type,
            rate=self.discount_rate,
            floor=self.floor_amount,
            cap=self.cap_amount,
            amount=self.direct_amount,
            threshold=self.threshold_amount,
        )

    @property
    def rule_text(self) -> str:
        return describe(self.rule)


class PromoCode(models.Model):
    code = models.CharField(_("promo code"), max_length=32, unique=True)
    application = models.ForeignKey(
        PromoCodeApplication,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="codes",
    )
    # Copied from the application so the database itself refuses a use beyond the limit.
    max_uses = models.PositiveIntegerField(_("max uses"), default=0)
    uses_count = models.IntegerField(_("uses"), default=0)

    class Meta:
        verbose_name = _("promo code")
        verbose_name_plural = _("promo codes")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(uses_count__gte=0),
                name="promo_code_uses_gte_0",
                violation_error_message=_("Uses: cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(max_uses=0) | Q(uses_count__lte=F("max_uses")),
                name="promo_code_uses_lte_max",
                violation_error_message=_("Uses: cannot exceed the maximum number of uses."),
            ),
        ]

    def __str__(self):
        return self.code


class PromoCodeUse(models.Model):
    code = models.ForeignKey(
        PromoCode, verbose_name=_("promo code"), on_delete=models.PROTECT, related_name="uses"
    )
    user_id = models.CharField(_("user id"), max_length=64, db_index=True)
    order_no = models.CharField(_("order no"), max_length=64, db_index=True)
    store = models.ForeignKey(
        Org,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The calling API client's public id: order numbers are the client's own, so a use belongs
    # to the client that made it (promo codes stand on the core alone, not on the api app).
    client_key = models.CharField(_("API client"), max_length=40, blank=True)
    discount = MoneyField(_("discount"))
    eligible_amount = MoneyField(_("eligible amount"))
    charged_budget = models.ForeignKey(
        DepartmentBudget,
        verbose_name=_("charged budget"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="uses",
    )
    charged_merchant = models.ForeignKey(
        Merchant,
        verbose_name=_("charged merchant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="uses",
    )
    used_at = models.DateTimeField(pgettext_lazy("promo code", "used at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("promo code use")
        verbose_name_plural = _("promo code uses")
        ordering = ["-used_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client_key", "order_no", "code"],
                name="promo_use_unique_order",
                violation_error_message=_(
                    "Order number: this order has already used this promo code."
                ),
            ),
            # one promo code per order, also when two arrive at the same moment
            models.UniqueConstraint(
                fields=["client_key", "order_no"],
                condition=Q(cancelled_at__isnull=True),
                name="promo_use_one_live_per_order",
                violation_error_message=_("Order number: this order already uses a promo code."),
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0),
                name="promo_use_discount_gte_0",
                violation_error_message=_("Discount: cannot be below zero."),
            ),
            models.CheckConstraint(
                condition=Q(discount__lte=F("eligible_amount")),
                name="promo_use_discount_lte_eligible",
                violation_error_message=_("Discount: cannot exceed the eligible amount."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.order_no}"
