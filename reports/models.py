"""Report facts (SPEC.md §9): denormalised rows a nightly job fills up to the end of yesterday.

Reports never read today's data: the page says 本功能数据源截止到昨日, and every fact table here is
written only by `reports.facts` (the nightly Celery beat job and `manage.py build_report_facts`).
Each build records a `FactRun` whose `until` is the watermark the next incremental run starts from.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.money import MoneyField


class FactRun(models.Model):
    """One build of the facts: the window of source changes it read and what it wrote."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("report", "running")
        SUCCEEDED = "succeeded", pgettext_lazy("report", "succeeded")
        FAILED = "failed", _("failed")

    since = models.DateTimeField(_("changes since"), null=True, blank=True)
    until = models.DateTimeField(_("data up to"))
    as_of = models.DateTimeField(_("state as of"))
    is_backfill = models.BooleanField(_("back-fill"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    candidates = models.PositiveIntegerField(_("changed source rows"), default=0)
    inserted = models.PositiveIntegerField(_("inserted"), default=0)
    updated = models.PositiveIntegerField(pgettext_lazy("report", "updated"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    days_rebuilt = models.PositiveIntegerField(_("summary days rebuilt"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("fact build")
        verbose_name_plural = _("fact builds")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.since} → {self.until} ({self.status})"


class UValueCouponFact(models.Model):
    """U享值兑换优惠券明细: one row per coupon obtained by U-value exchange.

    `org_path` is the path of the store the row belongs to for scoping: the redeeming store once
    the coupon is used, else the member's registration store, else the org that created the rule.
    """

    coupon_id = models.BigIntegerField(_("coupon"), primary_key=True)
    issue_date = models.DateField(_("issue date"))
    campaign_name = models.CharField(_("campaign name"), max_length=100, blank=True)
    campaign_code = models.CharField(_("campaign code"), max_length=30, blank=True)
    rule_id = models.BigIntegerField(pgettext_lazy("report", "coupon rule"))
    rule_code = models.CharField(_("rule code"), max_length=30)
    coupon_name = models.CharField(_("coupon name"), max_length=100)
    description = models.CharField(_("benefit description"), max_length=200, blank=True)
    min_order_amount = MoneyField(_("benefit threshold (orders from)"), default=0)
    benefit = models.CharField(pgettext_lazy("report", "coupon type"), max_length=10)
    face_value = MoneyField(_("face value"), null=True, blank=True)
    value_label = models.CharField(pgettext_lazy("report", "value"), max_length=100, blank=True)
    u_value_paid = models.PositiveIntegerField(pgettext_lazy("report", "U-value paid"))
    u_value_yuan = MoneyField(_("U-value in yuan"))
    coupon_code = models.CharField(_("coupon code"), max_length=40)
    member_id = models.BigIntegerField(_("member"), null=True, blank=True)
    member_name = models.CharField(_("member name"), max_length=50, blank=True)
    member_card = models.CharField(_("card number"), max_length=30, blank=True)
    member_phone = models.CharField(pgettext_lazy("member", "phone"), max_length=20, blank=True)
    status = models.CharField(_("coupon status"), max_length=10)
    obtained_at = models.DateTimeField(_("credited at"))
    used_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    used_store_id = models.BigIntegerField(_("redeeming store"), null=True, blank=True)
    used_store_name = models.CharField(_("redeeming store"), max_length=200, blank=True)
    order_no = models.CharField(_("order no"), max_length=64, blank=True)
    scope_store_id = models.BigIntegerField(null=True, blank=True)
    org_path = models.CharField(max_length=255, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed"), default=timezone.now)

    class Meta:
        verbose_name = _("U-value exchange coupon fact")
        verbose_name_plural = _("U-value exchange coupon facts")
        ordering = ["-obtained_at", "-coupon_id"]
        indexes = [
            # the page's default order (newest credited first) and the 到账时间 range; with what
            # HQ's "U-value spent in 30 days" sums, read off the index alone
            models.Index(
                fields=["-obtained_at", "-coupon_id"],
                include=["org_path", "u_value_paid", "u_value_yuan"],
                name="uvfact_obtained_sums",
            ),
            # a store manager's scope / an org node, newest first
            models.Index(
                fields=["org_path", "-obtained_at"],
                name="uvfact_org_obtained",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
            # 核销时间 range (only redeemed rows carry it)
            models.Index(
                fields=["used_at"], name="uvfact_used_at", condition=Q(used_at__isnull=False)
            ),
            models.Index(fields=["coupon_code"], name="uvfact_code"),
            models.Index(fields=["member_card"], name="uvfact_card"),
            models.Index(fields=["member_phone"], name="uvfact_phone"),
            models.Index(fields=["rule_id", "-obtained_at"], name="uvfact_rule_obtained"),
            models.Index(fields=["status", "-obtained_at"], name="uvfact_status_obtained"),
        ]

    def __str__(self):
        return self.coupon_code


class RedemptionDailyFact(models.Model):
    """Redemptions of coupons per store × day × coupon rule (all kinds of coupons)."""

    day = models.DateField(_("day"))
    store_id = models.BigIntegerField(_("store"))
    store_name = models.CharField(_("store"), max_length=200)
    org_path = models.CharField(max_length=255)
    rule_id = models.BigIntegerField(pgettext_lazy("report", "coupon rule"))
    rule_code = models.CharField(_("rule code"), max_length=30)
    rule_name = models.CharField(_("coupon name"), max_length=100)
    count = models.PositiveIntegerField(pgettext_lazy("report", "redemptions"))
    face_value = MoneyField(_("face value total"), default=0)

    class Meta:
        verbose_name = _("daily redemption fact")
        verbose_name_plural = _("daily redemption facts")
        ordering = ["-day", "store_name", "rule_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "store_id", "rule_id"],
                name="redfact_unique_day_store_rule",
                violation_error_message=_(
                    "Daily redemptions: this day, store and rule already have a row."
                ),
            )
        ]
        indexes = [
            # with the count: HQ's redemptions to date are summed off the index alone
            models.Index(
                fields=["org_path", "day"],
                include=["count"],
                name="redfact_org_day_count",
                opclasses=["varchar_pattern_ops", "date_ops"],
            )
        ]

    def __str__(self):
        return f"{self.day} {self.store_name} {self.rule_code} ×{self.count}"


class PromoDailyFact(models.Model):
    """Promo-code uses per day × channel, not cancelled (as of the build): HQ's discount by
    channel reads thirty of these days instead of every use."""

    day = models.DateField(_("day"))
    channel_id = models.BigIntegerField(pgettext_lazy("promo code", "channel"))
    channel_name = models.CharField(_("channel name"), max_length=100)
    uses = models.PositiveIntegerField(pgettext_lazy("report", "promo-code uses"))
    discount = MoneyField(_("discount"), default=0)

    class Meta:
        verbose_name = _("daily promo-code fact")
        verbose_name_plural = _("daily promo-code facts")
        ordering = ["-day", "channel_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel_id"],
                name="promofact_unique_day_channel",
                violation_error_message=_(
                    "Daily promo-code uses: this day and channel already have a row."
                ),
            )
        ]

    def __str__(self):
        return f"{self.day} {self.channel_name} ×{self.uses}"
