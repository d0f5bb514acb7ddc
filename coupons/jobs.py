"""Background runners of the coupons app; each resumes from what the database already holds."""

from django.core.files.storage import default_storage
from django.db.models import Q

from couponhub.core.cardsheets import Card, run_card_job
from couponhub.core.errors import Refused
from couponhub.core.jobs import job_runner, set_progress
from couponhub.core.models import Job
from couponhub.core.spreadsheets import SpreadsheetError, read_rows
from coupons import services
from coupons.models import Campaign, Coupon, CouponRule
from members.models import Member


@job_runner("coupons.generate_physical")
def generate_physical(job: Job) -> None:
    rule = CouponRule.objects.get(pk=job.params["rule_id"])
    set_progress(job, Coupon.objects.filter(rule=rule).count(), rule.total)
    services.run_generation(rule=rule, job=job, progress=lambda done: set_progress(job, done))
    Job.objects.filter(pk=job.pk).update(
        result={"generated": Coupon.objects.filter(rule=rule).count()}
    )


def resolve_gift_rows(rows) -> tuple[list[int], list[dict]]:
    """Member ids from rows whose first cell is a phone, card number or member ID."""
    keys: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=1):
        if not row or not row[0]:
            continue
        if number == 1 and not any(ch.isdigit() for ch in row[0]):
            continue  # a header row
        keys.append((number, row[0].strip()))
    values = [k for _n, k in keys]
    found: dict[str, int] = {}
    for chunk_start in range(0, len(values), 5000):
        chunk = values[chunk_start : chunk_start + 5000]
        rows = Member.objects.filter(
            Q(phone__in=chunk) | Q(card_no__in=chunk) | Q(member_no__in=chunk)
        ).values_list("pk", "phone", "card_no", "member_no")
        for pk, phone, card_no, member_no in rows:
            for key in (phone, card_no, member_no):
                found.setdefault(key, pk)
    ids: list[int] = []
    seen: set[int] = set()
    errors = []
    for number, key in keys:
        pk = found.get(key)
        if pk is None:
            errors.append({"row": number, "value": key, "error": "会员不存在"})
        elif pk not in seen:
            seen.add(pk)
            ids.append(pk)
    return ids, errors


@job_runner("coupons.gift")
def gift(job: Job) -> None:
    """Gift one coupon to every member of the uploaded list, all in one transaction."""
    rule = CouponRule.objects.get(pk=job.params["rule_id"])
    campaign = Campaign.objects.filter(pk=job.params.get("campaign_id")).first()
    if Coupon.objects.filter(job=job).exists():
        return  # an earlier run committed: the gift is complete
    try:
        with default_storage.open(job.params["file"], "rb") as fh:
            ids, errors = resolve_gift_rows(read_rows(fh, filename=job.params["file"]))
    except SpreadsheetError as exc:
        raise Refused("coupon_refused", exc.message, status=409) from exc
    if errors:
        Job.objects.filter(pk=job.pk).update(result={"errors": errors[:1000]})
        raise Refused(
            "coupon_refused", f"名单中有{len(errors)}行无法识别会员，未发放任何券", status=409
        )
    set_progress(job, 0, len(ids))
    count = services.gift_coupons(
        actor=job.owner, rule=rule, member_ids=ids, campaign=campaign, job=job
    )
    set_progress(job, count)
    Job.objects.filter(pk=job.pk).update(result={"gifted": count})


@job_runner("coupons.print_cards")
def print_cards(job: Job) -> None:
    """Card sheets of a physical rule's coupons, by serial number: the QR code is the coupon
    code, a recharge coupon's number is printed under the scratch-off."""
    rule = CouponRule.objects.get(pk=job.params["rule_id"])
    rows = (
        Coupon.objects.filter(
            rule=rule, number__gte=job.params["from"], number__lte=job.params["to"]
        )
        .order_by("number")
        .values_list("number", "code", "recharge_no")
    )
    notes = job.params.get("notes", "")
    cards = (
        Card(
            serial=str(number),
            code=code,
            password=recharge_no or "",
            title=rule.name,
            qr_text=code,
            notes=notes,
        )
        for number, code, recharge_no in rows.iterator(chunk_size=5000)
    )
    result = run_card_job(job, cards, name=f"coupon-cards-{rule.code}-{job.pk}")
    Job.objects.filter(pk=job.pk).update(result=result)
