import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from couponhub.core.crypto import EncryptedTextField
from couponhub.core.money import MoneyField


def public_storage():
    """The storage of files any page may show (STORAGES["public"]), for a FileField's storage=."""
    return storages["public"]


class User(AbstractUser):
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Set when an administrator gives out a temporary password: until the user chooses their own,
    # every page leads to the password change (couponhub.core.middleware).
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # When an administrator last made a one-time password link: part of the link's signed value
    # (staff.services.PasswordLinkTokens), so making a new link voids the older ones.
    password_link_at = models.DateTimeField(_("password link made at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        permissions = [("view_full_phone", _("Can see members' full phone numbers"))]


class Org(models.Model):
    """A node of the organisation tree: group → region / business line → store."""

    class Kind(models.TextChoices):
        GROUP = "group", _("group")
        REGION = "region", _("region / business line")
        STORE = "store", _("store")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of primary keys ("/1/4/9/"): a subtree is one indexed prefix match.
    path = models.CharField(max_length=255, editable=False, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="group", parent__isnull=True) | Q(parent__isnull=False),
                name="org_only_group_is_root",
                violation_error_message=_(
                    "Parent organization: only the group may have no parent; choose a parent."
                ),
            )
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # The path needs the primary key, so it is settled once the row exists; a move to another
        # parent carries the whole subtree along.
        parent_path = Org.objects.get(pk=self.parent_id).path if self.parent_id else "/"
        path = f"{parent_path}{self.pk}/"
        if path != self.path:
            old, self.path = self.path, path
            Org.objects.filter(pk=self.pk).update(path=path)
            if old:
                Org.objects.filter(path__startswith=old).exclude(pk=self.pk).update(
                    path=Concat(Value(path), Substr("path", len(old) + 1))
                )

    @property
    def is_store(self) -> bool:
        return self.kind == self.Kind.STORE

    @property
    def label(self) -> str:
        """How the seed's header names a store: 蓝港店-零售-380."""
        if self.is_store and self.parent_id:
            return f"{self.name}-{self.parent.name}-{self.code}"
        return self.name

    def contains(self, other: "Org") -> bool:
        return other.path.startswith(self.path)


class RoleAssignment(models.Model):
    class Role(models.TextChoices):
        CLERK = "clerk", _("clerk")
        STORE_MANAGER = "store_manager", _("store manager")
        OPERATOR = "operator", pgettext_lazy("role", "operator")
        FINANCE = "finance", _("finance")
        HQ = "hq", _("HQ")
        ADMIN = "admin", _("administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    org = models.ForeignKey(Org, verbose_name=_("organisation"), on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "org"],
                name="unique_role_assignment",
                violation_error_message=_(
                    "Role: this user already has this role in this organization."
                ),
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} @ {self.org}"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the audit log is append-only")

    def delete(self):
        raise PermissionError("the audit log is append-only")


class AuditEntry(models.Model):
    """Append-only. On PostgreSQL a trigger refuses UPDATE and DELETE as well."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    org = models.ForeignKey(
        Org,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # the request (X-Request-ID) or task that wrote it, to find its log lines
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")


class Job(models.Model):
    """A piece of long work done by the worker, with its progress and result file."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    kind = models.CharField(_("kind"), max_length=60, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    done = models.PositiveBigIntegerField(_("done"), default=0)
    total = models.PositiveBigIntegerField(_("total"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)
    result_file = models.FileField(_("result file"), upload_to="jobs/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=100, blank=True)  # host:pid of the last run

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # the dashboards' jobs queued/running and failed in a day, among every job ever run
            models.Index(fields=["status", "-created_at"], name="job_status_created"),
        ]

    def __str__(self):
        return self.title

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}

    @property
    def can_rerun(self) -> bool:
        return self.status in {self.Status.FAILED, self.Status.CANCELLED}


class SmsAccount(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    balance = MoneyField(_("balance"), default=0)

    class Meta:
        verbose_name = _("SMS account")
        verbose_name_plural = _("SMS accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0),
                name="sms_balance_not_negative",
                violation_error_message=_("SMS balance: cannot be below zero."),
            )
        ]

    def __str__(self):
        # the one account every message is paid from is called "default" in code
        return str(_("SMS account")) if self.name == "default" else self.name


class SmsTopUp(models.Model):
    account = models.ForeignKey(SmsAccount, on_delete=models.PROTECT, related_name="top_ups")
    amount = MoneyField(_("amount"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("SMS top-up")
        verbose_name_plural = _("SMS top-ups")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="sms_topup_positive",
                violation_error_message=_("Amount: must be greater than zero."),
            )
        ]

    def __str__(self):
        return f"{self.account} +{self.amount}"


class SmsMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        REFUSED = "refused", _("refused: balance too low")

    account = models.ForeignKey(SmsAccount, on_delete=models.PROTECT, related_name="messages")
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    text = models.TextField(_("text"))
    purpose = models.CharField(_("purpose"), max_length=40, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    cost = MoneyField(_("cost"), default=0)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    template_code = models.CharField(max_length=50, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # set by the worker that calls the gateway, so a message is sent once (core.sms.deliver)
    sending_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS send log")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.phone} {self.purpose} {self.status}"


class IdempotencyRecord(models.Model):
    """The first answer to an API write, replayed for a retry with the same Idempotency-Key.

    Keyed by the calling client's public id (not a foreign key), so that the building blocks of
    the API live here and the `api` app, which holds the clients, is only imported by the URLs."""

    client_key = models.CharField(max_length=40)
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)  # 0 while the first call runs
    response = models.TextField(default="")  # the JSON exactly as first sent
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("API idempotency record")
        verbose_name_plural = _("API idempotency record")
        constraints = [
            models.UniqueConstraint(
                fields=["client_key", "key"],
                name="core_idempotency_client_key",
                violation_error_message=_(
                    "Idempotency key: this client has already used this key."
                ),
            )
        ]

    def __str__(self):
        return self.key


class OrderDiscount(models.Model):
    """A discount an order carries: coupons redeemed against it, or a promo code used on it.

    Coupons and promo codes don't stack (seed 004 §3.6.3), and the two live in apps that may not
    import each other (redemption, promocodes), so each side records its discount here, keyed by
    the order as its caller names it (the API client's public id and the order number), and
    refuses when the other kind is on the order (`couponhub.core.order_discounts`)."""

    class Kind(models.TextChoices):
        COUPON = "coupon", _("coupon")
        PROMO_CODE = "promo_code", _("promo code")

    client_key = models.CharField(max_length=40)
    order_no = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ref = models.CharField(max_length=40)  # the redemption number, or the promo code
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order discount")
        verbose_name_plural = _("order discounts")
        indexes = [
            models.Index(
                fields=["client_key", "order_no"],
                condition=models.Q(released_at__isnull=True),
                name="core_order_discount_live",
            )
        ]

    def __str__(self):
        return f"{self.order_no} {self.kind} {self.ref}"


class Event(models.Model):
    """One business change, written in the transaction that made it (the outbox): a row here
    exists exactly when the change was committed. `couponhub.core.events` delivers it."""

    uuid = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("event type"), max_length=60, db_index=True)
    data = models.JSONField(_("data"), default=dict)
    org = models.ForeignKey(
        Org,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.type} {self.uuid}"


class EventSubscriber(models.Model):
    """An HTTPS endpoint that receives the events of the types it wants, signed with its
    secret. `match` narrows them to events whose data contains it (a partner shop's
    subscriber has {"shop_id": …}), `source` names who keeps the row when it is not an admin
    (the shop's bind page)."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = EncryptedTextField(_("secret"))
    event_types = models.JSONField(_("event types"), default=list)
    match = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=60, blank=True, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("event subscriber")
        verbose_name_plural = _("event subscribers")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class EventDelivery(models.Model):
    """One event for one subscriber: pending until the receiver answers 2xx, retried with
    back-off; given up a day after the event (an admin can resend it)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("event delivery status", "pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("given up")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(
        EventSubscriber,
        verbose_name=_("subscriber"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    give_up_at = models.DateTimeField(_("give up at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscriber"],
                name="event_delivery_once",
                violation_error_message=_("Subscriber: this event is already delivered to it."),
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="event_delivery_due",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self):
        return f"{self.event} → {self.subscriber}"


class DeliveryAttempt(models.Model):
    """The delivery log: one POST to a subscriber and what came back."""

    delivery = models.ForeignKey(EventDelivery, on_delete=models.CASCADE, related_name="log")
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery log")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.delivery_id} {self.status_code or self.error}"


class SmsVerification(models.Model):
    """A code texted to a phone to prove the person holds it (e.g. a member's new phone): only
    its hash is kept; it expires, dies after a few wrong tries and is spent once."""

    phone = models.CharField(_("phone"), max_length=20)
    purpose = models.CharField(_("purpose"), max_length=40)
    subject = models.CharField(max_length=64)  # what the code is for, e.g. "member:42"
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SMS verification code")
        verbose_name_plural = _("SMS verification codes")
        indexes = [models.Index(fields=["phone", "purpose", "-created_at"])]

    def __str__(self):
        return f"{self.purpose} {self.subject}"
