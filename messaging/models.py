"""Member messages: an SMS an operator sends to a selection of members, as a background job.

A message is first a draft (its selection resolved and its cost shown), then queued and sent by
the worker one delivery at a time; a delivery row per member makes a re-run send only to whom
it has not reached yet, and is what the daily limit per member counts.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.money import MoneyField
from members.models import Member

OPT_OUT_WORDS = "回T退订"


class MemberMessage(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft (cost shown)")
        QUEUED = "queued", _("sending")
        DONE = "done", _("sent")

    class Selection(models.TextChoices):
        RULE = "rule", _("holders of a coupon rule")
        LEVEL = "level", _("member level")
        TAG = "tag", _("member tag")
        STORE = "store", _("registration store")
        UPLOAD = "upload", _("uploaded list")

    text = models.TextField(pgettext_lazy("member message", "text"))
    marketing = models.BooleanField(_("marketing message"), default=True)
    selection = models.CharField(
        pgettext_lazy("member message", "selection"), max_length=10, choices=Selection.choices
    )
    selection_label = models.CharField(pgettext_lazy("member message", "selection"), max_length=200)
    params = models.JSONField(
        default=dict, blank=True
    )  # rule_id / level / tag_id / store_id / member_ids
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    estimated_cost = MoneyField(_("estimated cost"), default=0)
    sent = models.PositiveIntegerField(_("sent"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("member message")
        verbose_name_plural = _("member messages")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.text[:30]

    @property
    def full_text(self) -> str:
        """What the members receive: a marketing text always ends with the opt-out words."""
        if self.marketing and OPT_OUT_WORDS not in self.text:
            return f"{self.text} {OPT_OUT_WORDS}"
        return self.text


class Delivery(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", _("sent")
        OPTED_OUT = "opted_out", _("skipped: opted out")
        LIMIT = "limit", _("skipped: daily limit reached")
        FAILED = "failed", _("not sent")

    message = models.ForeignKey(MemberMessage, on_delete=models.CASCADE, related_name="deliveries")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message delivery")
        verbose_name_plural = _("message deliveries")
        constraints = [
            models.UniqueConstraint(fields=["message", "member"], name="delivery_once_per_member")
        ]
        indexes = [models.Index(fields=["member", "day"], name="delivery_member_day")]

    def __str__(self):
        return f"{self.message_id} → {self.member_id} {self.status}"
