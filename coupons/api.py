"""Coupon issuance over the signed API (SPEC.md §10): claim / purchase / U-value exchange."""

import datetime
from typing import Annotated, Literal

from ninja import Field, Path, Router, Schema, Status

from couponhub.core.errors import Refused
from couponhub.core.idempotency import idempotent
from coupons import services
from coupons.models import Campaign, CouponRule
from coupons.services import activation
from members.models import Member

router = Router(tags=["coupons"])
ERRORS = {400: dict, 404: dict, 409: dict}


class IssueIn(Schema):
    action: Literal["claim", "purchase", "exchange"]
    rule_code: str = Field("", max_length=30)
    campaign_code: str = Field("", max_length=30)
    payment_method: str = Field("", max_length=20, description="purchase only")


class IssueOut(Schema):
    code: str
    name: str
    channel: str
    status: str
    valid_from: datetime.datetime
    valid_to: datetime.datetime
    price_paid: str | None
    u_value_paid: int | None
    u_value_balance: int


@router.post(
    "/members/{card_no}/coupons",
    response={201: IssueOut, **ERRORS},
    summary="Issue a coupon to a member: claim, purchase or U-value exchange, by rule or campaign",
)
@idempotent
def issue_to_member(request, card_no: Annotated[str, Path(max_length=30)], payload: IssueIn):
    member = Member.objects.filter(card_no=card_no).first()
    if member is None:
        raise Refused("member_not_found", f"会员卡号{card_no}不存在", 404)
    if bool(payload.rule_code) == bool(payload.campaign_code):
        raise Refused("invalid_request", "rule_code 与 campaign_code 必须且只能填写一个", 422)
    campaign, rule = None, None
    if payload.campaign_code:
        campaign = (
            Campaign.objects.select_related("rule").filter(code=payload.campaign_code).first()
        )
        if campaign is None:
            raise Refused("campaign_not_found", f"活动编码{payload.campaign_code}不存在", 404)
        rule = campaign.rule
    else:
        rule = CouponRule.objects.filter(code=payload.rule_code).first()
        if rule is None:
            raise Refused("rule_not_found", f"规则编码{payload.rule_code}不存在", 404)
    actor = f"api:{request.auth.name}"
    if payload.action == "claim":
        coupon = services.claim_coupon(actor=actor, rule=rule, member=member, campaign=campaign)
    elif payload.action == "purchase":
        if not payload.payment_method:
            raise Refused("invalid_request", "购买时必须填写 payment_method（支付方式）", 422)
        coupon = services.purchase_coupon(
            actor=actor,
            rule=rule,
            member=member,
            campaign=campaign,
            payment_method=payload.payment_method,
        )
    else:
        coupon = services.exchange_coupon(
            actor=actor, member=member, campaign=campaign, rule=None if campaign else rule
        )
    member.refresh_from_db(fields=["u_value"])
    return Status(
        201,
        {
            "code": coupon.code,
            "name": rule.name,
            "channel": coupon.channel,
            "status": coupon.status,
            "valid_from": coupon.valid_from,
            "valid_to": coupon.valid_to,
            "price_paid": str(coupon.price_paid) if coupon.price_paid is not None else None,
            "u_value_paid": coupon.u_value_paid,
            "u_value_balance": member.u_value,
        },
    )


class ActivationIn(Schema):
    """Either the coupons' codes (as scanned) or a rule and a code range."""

    codes: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field([], max_length=1000)
    rule_code: str = Field("", max_length=30)
    code_from: str = Field("", max_length=40)
    code_to: str = Field("", max_length=40)
    reason: str = Field("", max_length=200, description="deactivation only: why the sale ended")


class ActivationOut(Schema):
    changed: int


def _activation_rule(payload: ActivationIn) -> CouponRule | None:
    if payload.codes:
        return None
    rule = CouponRule.objects.filter(code=payload.rule_code).first()
    if rule is None:
        raise Refused("rule_not_found", f"规则编码{payload.rule_code}不存在", 404)
    return rule


@router.post(
    "/coupons/activate",
    response={200: ActivationOut, **ERRORS},
    summary="Activate physical coupons when they are sold at the till",
)
@idempotent
def activate_coupons(request, payload: ActivationIn):
    changed = activation.activate_coupons(
        actor=f"api:{request.auth.name}",
        store=request.auth.store,
        rule=_activation_rule(payload),
        code_from=payload.code_from,
        code_to=payload.code_to,
        codes=payload.codes,
    )
    return {"changed": changed}


@router.post(
    "/coupons/deactivate",
    response={200: ActivationOut, **ERRORS},
    summary="Deactivate sold physical coupons when the sale is reversed",
)
@idempotent
def deactivate_coupons(request, payload: ActivationIn):
    changed = activation.deactivate_coupons(
        actor=f"api:{request.auth.name}",
        store=request.auth.store,
        rule=_activation_rule(payload),
        code_from=payload.code_from,
        code_to=payload.code_to,
        codes=payload.codes,
        reason=payload.reason,
    )
    return {"changed": changed}
