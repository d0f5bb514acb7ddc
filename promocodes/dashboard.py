"""Home-page panel of finance: what waits for approval, and the department budgets' burn with the
days left in their period."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from couponhub.core.panels import Panel, PanelData, Stat
from promocodes import selectors
from promocodes.models import PromoCodeApplication


def _finance(request) -> PanelData:
    today = timezone.localdate()
    waiting = PromoCodeApplication.objects.filter(
        status=PromoCodeApplication.Status.PENDING
    ).count()
    rows = []
    for budget in selectors.current_budgets(today).select_related("department")[:12]:
        burn = budget.spent / budget.amount if budget.amount else 0
        rows.append(
            [
                budget.department.name,
                f"¥{budget.spent:,.2f} / ¥{budget.amount:,.2f}",
                f"{burn:.0%}",
                (budget.period_end - today).days,
            ]
        )
    return PanelData(
        stats=[
            Stat(_("Promo-code applications waiting"), waiting, url=reverse("promocodes:review"))
        ],
        columns=[_("department"), _("spent / budget"), _("burn"), _("days left")],
        rows=rows,
        link=(_("Departments and budgets"), reverse("promocodes:budgets")),
    )


PANELS = [
    Panel("promocodes.finance", gettext_lazy("Approvals and budgets"), ("finance",), _finance, 60)
]
