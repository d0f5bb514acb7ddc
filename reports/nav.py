from django.utils.translation import gettext_lazy as _

from couponhub.core.navigation import NavItem

ANALYSIS = _("Data analysis")
VIEW = ("reports.view", "reports.view_store")

NAV_ITEMS = [
    NavItem(
        ANALYSIS,
        _("U-value exchange coupon details"),
        "reports:u_value_detail",
        VIEW,
        10,
        icon="chart-column",
    ),
    NavItem(ANALYSIS, _("Summaries"), "reports:summary_home", VIEW, 20, icon="chart-column"),
]
