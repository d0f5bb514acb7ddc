"""The sending job: every selected member not reached yet by this message, in member order."""

from django.db.models import Count, Exists, OuterRef, Q

from couponhub.core.jobs import job_runner, set_progress
from couponhub.core.models import Job
from messaging import selectors, services
from messaging.models import Delivery, MemberMessage

PROGRESS_EVERY = 100


@job_runner(services.SEND_JOB)
def send_member_message(job: Job) -> None:
    message = MemberMessage.objects.get(pk=job.params["message_id"])
    members = (
        selectors.selected_members(message.selection, message.params)
        .exclude(Exists(Delivery.objects.filter(message=message, member=OuterRef("pk"))))
        .order_by("pk")
    )
    done = message.deliveries.count()
    set_progress(job, done, done + members.count())
    for member in members.iterator(chunk_size=500):
        services.deliver(message=message, member=member)
        done += 1
        if done % PROGRESS_EVERY == 0:
            set_progress(job, done)
    counts = message.deliveries.aggregate(
        sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
        skipped=Count("pk", filter=~Q(status=Delivery.Status.SENT)),
    )
    MemberMessage.objects.filter(pk=message.pk).update(
        status=MemberMessage.Status.DONE, sent=counts["sent"], skipped=counts["skipped"]
    )
    set_progress(job, done, done)
