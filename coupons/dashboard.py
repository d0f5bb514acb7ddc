"""Home-page panels of coupon rules: rules waiting for finance, and the operator's rules in the
works (drafts, waiting, nearly issued out)."""

from django.db.models import BigIntegerField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from couponhub.core.panels import Panel, PanelData, Stat
from coupons.models import CouponRule

Status = CouponRule.Status


def _finance(request) -> PanelData:
    waiting = CouponRule.objects.filter(status=Status.IN_REVIEW).count()
    return PanelData(
        stats=[
            Stat(
                _("Coupon rules waiting for approval"),
                waiting,
                url=reverse("coupons:rule_list") + "?status=in_review",
                warn=bool(waiting),
            )
        ]
    )


def _operator(request) -> PanelData:
    counts = {
        status: CouponRule.objects.filter(status=status).count()
        for status in (Status.DRAFT, Status.IN_REVIEW)
    }
    # in bigint: nine times a total of a billion overflows the integer column
    nearly_out = CouponRule.objects.filter(
        status=Status.APPROVED,
        is_disabled=False,
        issued_count__gte=Cast("total", BigIntegerField()) * 9 / 10,
    ).count()
    url = reverse("coupons:rule_list")
    return PanelData(
        stats=[
            Stat(_("Rules in draft"), counts[Status.DRAFT], url=f"{url}?status=draft"),
            Stat(_("Rules in review"), counts[Status.IN_REVIEW], url=f"{url}?status=in_review"),
            Stat(_("Rules over 90% issued"), nearly_out, warn=bool(nearly_out)),
        ]
    )


PANELS = [
    Panel("coupons.finance", _("Coupon rules to approve"), ("finance",), _finance, 55),
    Panel("coupons.operator", _("Coupon rules"), ("operator",), _operator, 45),
]
