"""The reports' part of `manage.py seed_demo`.

The demo data is created "today", and reports only read up to the end of yesterday, so on a fresh
`make run` the U享值兑换优惠券明细 would be empty. This seed therefore adds a month of *back-dated*
history (U-value exchanges over the last 30 days at demo stores, about half of them redeemed a
few days later; some ordinary coupons redeemed as well), then runs the normal nightly build. It
never builds facts that include today: the watermark stays at today 00:00 and the real nightly
job carries on from there. Idempotent: it does nothing once a fact build has run.
"""

import datetime
import random

from django.utils import timezone

from couponhub.core.models import Org
from coupons import services as coupon_services
from coupons.models import Campaign, Coupon, CouponRule
from members import services as member_services
from members.models import Member
from reports import facts
from reports.models import FactRun

DAYS = 30


def seed(out) -> None:
    if FactRun.objects.exists():
        return
    campaigns = list(Campaign.objects.filter(code__in=["FQ24000149", "FQ24000151"]))
    cash = CouponRule.objects.filter(code="YHQ-FG-24000001").first()
    stores = list(Org.objects.filter(kind=Org.Kind.STORE, is_active=True).order_by("code"))
    members = list(Member.objects.order_by("pk")[:12])
    if not campaigns or not stores or not members:
        out.write("  reports: no coupons demo data, nothing to back-date")
        return
    rng = random.Random(47)
    now = timezone.now()
    made = 0
    for member in members:
        for _ in range(3):
            campaign = rng.choice(campaigns)
            price = campaign.effective_u_value_price()
            member_services.change_u_value(
                member=member, delta=price, reason="演示：U享值赠送", actor=None
            )
            coupon = coupon_services.exchange_coupon(actor=None, member=member, campaign=campaign)
            obtained = now - datetime.timedelta(days=rng.randint(2, DAYS), hours=rng.randint(0, 10))
            fields = {
                "obtained_at": obtained,
                "created_at": obtained,
                "valid_from": obtained,
            }
            if rng.random() < 0.5:
                used_at = obtained + datetime.timedelta(days=1, hours=rng.randint(0, 20))
                fields.update(
                    status=Coupon.Status.USED, used_at=used_at, used_store=rng.choice(stores)
                )
            Coupon.objects.filter(pk=coupon.pk).update(**fields)
            made += 1
    if cash is not None:  # ordinary coupons redeemed too, for the redemption summary
        before = set(Coupon.objects.filter(rule=cash).values_list("pk", flat=True))
        coupon_services.gift_coupons(actor=None, rule=cash, member_ids=[m.pk for m in members])
        for pk in (
            Coupon.objects.filter(rule=cash).exclude(pk__in=before).values_list("pk", flat=True)
        ):
            obtained = now - datetime.timedelta(days=rng.randint(3, DAYS))
            Coupon.objects.filter(pk=pk).update(
                obtained_at=obtained,
                created_at=obtained,
                valid_from=obtained,
                status=Coupon.Status.USED,
                used_at=obtained + datetime.timedelta(days=1),
                used_store=rng.choice(stores),
            )
    run = facts.build_facts()
    out.write(
        f"  reports: {made} back-dated U-value exchanges; facts built up to "
        f"{timezone.localtime(run.until):%Y-%m-%d %H:%M} ({run.inserted} detail rows)"
    )
