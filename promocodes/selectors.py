"""Reads of the promo-code domain."""

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from couponhub.core.models import Org
from couponhub.core.permissions import scope_paths, scoped
from promocodes.filters import ApplicationFilter
from promocodes.models import (
    Channel,
    Department,
    DepartmentBudget,
    Merchant,
    PromoCode,
    PromoCodeApplication,
    PromoCodeUse,
    StaffDepartment,
    display_status_q,
)


def channels() -> QuerySet[Channel]:
    return Channel.objects.select_related("department")


def applications_for(user, perm: str = "promocodes.view") -> QuerySet[PromoCodeApplication]:
    # the codes counted for the rows shown only (a subquery a row, through the application's
    # index), not grouped over the join of every application with its codes
    codes = (
        PromoCode.objects.filter(application=OuterRef("pk"))
        .order_by()
        .values("application")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = PromoCodeApplication.objects.select_related(
        "channel", "department", "merchant", "category", "created_by", "org"
    ).annotate(code_count=Coalesce(Subquery(codes), 0))
    return scoped(user, perm, qs, "org")


def status_tab_counts(applications: QuerySet[PromoCodeApplication]) -> dict[str, int]:
    """How many of `applications` are in each status a person sees, and all: one query."""
    now = timezone.now()
    return applications.aggregate(
        all=Count("pk"),
        **{
            status.value: Count("pk", filter=display_status_q(status.value, now))
            for status in PromoCodeApplication.DisplayStatus
        },
    )


def home_org(user, perm: str) -> Org | None:
    """The highest org node where the user holds `perm`: where their applications belong."""
    paths = scope_paths(user, perm)
    if paths is None:
        return Org.objects.filter(parent__isnull=True).order_by("pk").first()
    if not paths:
        return None
    return Org.objects.filter(path=min(paths, key=len)).first()


def staff_department(user) -> Department | None:
    link = StaffDepartment.objects.select_related("department").filter(user=user).first()
    return link.department if link else None


def budgets(day=None) -> QuerySet[DepartmentBudget]:
    return DepartmentBudget.objects.select_related("department")


def current_budgets(day=None) -> QuerySet[DepartmentBudget]:
    day = day or timezone.localdate()
    return budgets().filter(period_start__lte=day, period_end__gte=day)


def uses_of(application: PromoCodeApplication) -> QuerySet[PromoCodeUse]:
    return PromoCodeUse.objects.filter(code__application=application).select_related(
        "code", "store", "charged_budget__department", "charged_merchant"
    )


def merchant_costs() -> QuerySet[Merchant]:
    return Merchant.objects.annotate(
        charged=Sum("uses__discount", filter=Q(uses__cancelled_at__isnull=True)),
        use_count=Count("uses", filter=Q(uses__cancelled_at__isnull=True)),
    )


def applications_matching(user, query: dict) -> QuerySet[PromoCodeApplication]:
    """The application list (page and export): the user's scope, the filters, the status tab."""
    qs = ApplicationFilter(query, queryset=applications_for(user)).qs
    status = query.get("status", "")
    if status in PromoCodeApplication.DisplayStatus.values:
        qs = qs.with_display_status(status)
    return qs


def uses_matching(user, query: dict) -> QuerySet[PromoCodeUse]:
    """The uses of the codes of those applications, newest first."""
    return (
        PromoCodeUse.objects.filter(
            code__application__in=applications_matching(user, query).values("pk")
        )
        .select_related("code__application", "store", "charged_budget__department")
        .order_by("-used_at", "-id")
    )
