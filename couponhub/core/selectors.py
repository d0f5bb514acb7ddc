from django.db.models import QuerySet

from couponhub.core.models import AuditEntry, Job, SmsMessage


def audit_entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.all()


def jobs_for_owner(user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user)


def sms_messages() -> QuerySet[SmsMessage]:
    return SmsMessage.objects.select_related("account")
