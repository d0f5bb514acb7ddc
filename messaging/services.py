"""Writes of member messages: a draft with its cost, the send (a background job), each delivery."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.sms import get_account, send_sms
from members.models import Member
from messaging import selectors
from messaging.models import Delivery, MemberMessage

SEND_JOB = "messaging.send_member_message"
PURPOSE = "member_message"
MAX_TEXT = 300


def draft_message(
    *, actor, text: str, marketing: bool, selection: str, selection_label: str, params: dict
) -> MemberMessage:
    """Resolve the selection and price it; nothing is sent yet."""
    text = text.strip()
    if not text:
        raise Refused("empty_text", _("The message text is empty."))
    if len(text) > MAX_TEXT:
        raise Refused(
            "text_too_long",
            _("The message text has %(n)s characters; at most %(max)s.")
            % {"n": len(text), "max": MAX_TEXT},
        )
    figures = selectors.estimate(selection, params)
    if not figures["recipients"]:
        raise Refused(
            "no_recipients",
            _(
                "Nobody to send to: %(selected)s members selected, %(opted_out)s opted out, "
                "%(at_limit)s already got a message today."
            )
            % figures,
            409,
        )
    with transaction.atomic():
        message = MemberMessage.objects.create(
            text=text,
            marketing=marketing,
            selection=selection,
            selection_label=selection_label[:200],
            params=params,
            recipients=figures["recipients"],
            estimated_cost=figures["cost"],
            created_by=actor,
        )
        record_audit(
            actor=actor,
            action="messaging.draft",
            obj=message,
            after={"selection": selection_label, "recipients": figures["recipients"]},
        )
    return message


def send_message(*, actor, message: MemberMessage) -> MemberMessage:
    """Queue the draft's sending; refused when the SMS account cannot pay the estimate."""
    with transaction.atomic():
        message = MemberMessage.objects.select_for_update().get(pk=message.pk)
        if message.status != MemberMessage.Status.DRAFT:
            raise Refused("not_draft", _("This message has already been sent."), 409)
        balance = get_account().balance
        if balance < message.estimated_cost:
            raise Refused(
                "balance_low",
                _("The SMS balance ¥%(balance)s does not cover the estimated ¥%(cost)s.")
                % {"balance": f"{balance:,.2f}", "cost": f"{message.estimated_cost:,.2f}"},
                409,
            )
        message.job = enqueue_job(
            kind=SEND_JOB,
            title=_("Member message: %(label)s") % {"label": message.selection_label},
            owner=actor,
            params={"message_id": message.pk},
            total=message.recipients,
        )
        message.status = MemberMessage.Status.QUEUED
        message.save(update_fields=["job", "status"])
        record_audit(
            actor=actor,
            action="messaging.send",
            obj=message,
            after={"recipients": message.recipients, "cost": message.estimated_cost},
            note=message.full_text,
        )
    return message


def deliver(*, message: MemberMessage, member: Member) -> Delivery | None:
    """One member's message: skipped if they opted out or got one today (locked on the member's
    row, so two sends at once cannot both pass the limit); None if already handled."""
    today = timezone.localdate()
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if Delivery.objects.filter(message=message, member=member).exists():
            return None
        if member.sms_opt_out:
            status = Delivery.Status.OPTED_OUT
        elif (
            Delivery.objects.filter(member=member, day=today, status=Delivery.Status.SENT).count()
            >= selectors.DAILY_LIMIT
        ):
            status = Delivery.Status.LIMIT
        else:
            status = ""
        error = ""
        if not status:
            sms = send_sms(phone=member.phone, text=message.full_text, purpose=PURPOSE)
            ok = sms.status in ("sent", "pending")
            status = Delivery.Status.SENT if ok else Delivery.Status.FAILED
            error = "" if ok else (sms.error or sms.get_status_display())
        try:
            with transaction.atomic():
                return Delivery.objects.create(
                    message=message, member=member, day=today, status=status, error=error[:300]
                )
        except IntegrityError:
            return None
