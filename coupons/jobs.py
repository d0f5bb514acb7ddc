"""Background runners of the coupons app; each resumes from what the database already holds."""

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from couponhub.core.cardsheets import Card, run_card_job
from couponhub.core.errors import Refused
from couponhub.core.jobs import attach_result_file, job_runner, raise_if_cancelled, set_progress
from couponhub.core.models import Job
from couponhub.core.permissions import mask_phone
from couponhub.core.spreadsheets import (
    SpreadsheetError,
    local_time_text,
    read_rows,
    write_xlsx,
)
from coupons import selectors, services
from coupons.models import Campaign, Coupon, CouponRule

PROGRESS_EVERY = 2000


@job_runner("coupons.generate_physical")
def generate_physical(job: Job) -> None:
    rule = CouponRule.objects.get(pk=job.params["rule_id"])
    set_progress(job, Coupon.objects.filter(rule=rule).count(), rule.total)
    services.run_generation(rule=rule, job=job, progress=lambda done: set_progress(job, done))
    Job.objects.filter(pk=job.pk).update(
        result={"generated": Coupon.objects.filter(rule=rule).count()}
    )


@job_runner("coupons.gift")
def gift(job: Job) -> None:
    """Gift one coupon to every member of the uploaded list, all in one transaction; the list is
    read as it streams (services.gift_coupons_to_list)."""
    rule = CouponRule.objects.get(pk=job.params["rule_id"])
    campaign = Campaign.objects.filter(pk=job.params.get("campaign_id")).first()
    if Coupon.objects.filter(job=job).exists():
        return  # an earlier run committed: the gift is complete
    try:
        with default_storage.open(job.params["file"], "rb") as fh:
            outcome = services.gift_coupons_to_list(
                actor=job.owner,
                rule=rule,
                rows=read_rows(fh, filename=job.params["file"]),
                campaign=campaign,
                job=job,
                # one transaction: a cancel is looked for per chunk, progress is shown at the end
                after_chunk=lambda _rows: raise_if_cancelled(job),
            )
    except SpreadsheetError as exc:
        raise Refused("coupon_refused", exc.message, status=409) from exc
    if outcome.error_count:
        Job.objects.filter(pk=job.pk).update(result={"errors": outcome.errors})
        raise Refused(
            "coupon_refused",
            f"名单中有{outcome.error_count}行无法识别会员，未发放任何券",
            status=409,
        )
    set_progress(job, outcome.gifted, outcome.gifted)
    Job.objects.filter(pk=job.pk).update(result={"gifted": outcome.gifted})


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


@job_runner(services.COUPON_EXPORT)
def export_coupons(job: Job) -> None:
    """The list as its owner sees it now (their scope, the page's filters), read in chunks."""
    owner = job.owner
    coupons = selectors.coupons_for(owner, job.params.get("query", {})).select_related("used_store")
    set_progress(job, 0, coupons.count())
    headers = [
        _("coupon code"),
        _("rule code"),
        _("coupon name"),
        _("status"),
        _("channel"),
        _("campaign"),
        _("card number"),
        _("phone"),
        _("obtained"),
        _("valid from"),
        _("valid to"),
        _("used at"),
        _("redeeming store"),
        _("recharge number"),
        _("price paid"),
        _("payment method"),
        _("U-value paid"),
    ]

    def rows():
        for n, c in enumerate(coupons.order_by("pk").iterator(chunk_size=2000), start=1):
            if n % PROGRESS_EVERY == 0:
                set_progress(job, n)
            member = c.member
            yield [
                c.code,
                c.rule.code,
                c.rule.name,
                c.get_effective_status_display(),
                c.get_channel_display(),
                c.campaign.name if c.campaign_id else "",
                member.card_no if member else "",
                mask_phone(member.phone, owner) if member else "",
                local_time_text(c.obtained_at),
                local_time_text(c.valid_from),
                local_time_text(c.valid_to),
                local_time_text(c.used_at),
                c.used_store.name if c.used_store_id else "",
                c.recharge_no or "",
                c.price_paid,
                c.payment_method,
                c.u_value_paid,
            ]

    attach_result_file(
        job,
        f"coupons-{job.pk}.xlsx",
        lambda path: write_xlsx(path, headers=headers, rows=rows(), sheet_name="coupons"),
    )
