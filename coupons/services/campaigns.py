"""Campaigns (活动): the channel and dates through which a rule's coupons are issued."""

from django.db import transaction

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from coupons.models import Campaign, CouponRule


def save_campaign(*, actor, campaign: Campaign) -> Campaign:
    """Create or update a campaign; a marketing rule referenced by it gets its reference type."""
    if campaign.ends_on < campaign.starts_on:
        raise Refused("coupon_refused", "结束日期：不得早于开始日期", status=409)
    with transaction.atomic():
        creating = campaign.pk is None
        if creating:
            campaign.created_by = actor
        campaign.save()
        rule = campaign.rule
        if rule.kind == CouponRule.Kind.MARKETING and not rule.reference_type:
            CouponRule.objects.filter(pk=rule.pk).update(
                reference_type=campaign.get_channel_display()
            )
        record_audit(
            actor=actor,
            action="coupons.campaign_create" if creating else "coupons.campaign_update",
            obj=campaign,
            after=snapshot(
                campaign,
                ["code", "name", "rule_id", "channel", "u_value_price", "starts_on", "ends_on"],
            ),
        )
    return campaign
