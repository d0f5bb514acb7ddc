from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tables2 import RequestConfig

from couponhub.core.permissions import has_perm, mask_phone, permission_required
from couponhub.core.stores import current_store
from coupons import selectors as coupon_selectors
from members import selectors, services
from members.filters import MemberFilter
from members.forms import MemberImportForm
from members.tables import MemberImportTable, MemberTable

SECTIONS = ("coupons", "orders", "products", "points")
TAB_LABELS = {
    "usable": gettext_lazy("Usable here"),
    "unusable": gettext_lazy("Not usable here"),
    "used": gettext_lazy("Used"),
    "expired": gettext_lazy("Expired"),
    "voided": gettext_lazy("Voided"),
    "frozen": gettext_lazy("Frozen"),
}


@permission_required("members.lookup")
def lookup(request):
    """The counter's member lookup: profile, counters, wallet tabs, orders, products, ledgers."""
    store = current_store(request)
    if store is None:
        raise PermissionDenied
    q = request.GET.get("q", "")
    section = request.GET.get("view") if request.GET.get("view") in SECTIONS else "coupons"
    tab = request.GET.get("tab") if request.GET.get("tab") in coupon_selectors.TABS else "usable"
    context = {
        "q": q,
        "store": store,
        "section": section,
        "tab": tab,
        "searched": "q" in request.GET,
        # the redemption app's selection form hooks into the 本店可用 tab
        "can_redeem": has_perm(request.user, "redemption.redeem", store),
        "selected": request.GET.get("selected", "").split(","),
    }
    if "q" in request.GET:
        result = selectors.find_member(q)
        context["error"] = result.error
        member = result.member
        if member is not None:
            now = timezone.now()
            counts = coupon_selectors.wallet_counts(member, store, now)
            context.update(
                member=member,
                masked_phone=mask_phone(member.phone, request.user),
                counts=counts,
                counters=selectors.member_counters(member),
                tabs=[(t, TAB_LABELS[t], counts[t]) for t in coupon_selectors.TABS],
            )
            if section == "coupons":
                context["coupons"] = coupon_selectors.wallet_tab(member, store, tab, now)
            elif section == "orders":
                context["orders"] = selectors.recent_orders(member)
            elif section == "products":
                context["products"] = selectors.frequent_products(member)
            else:
                context["points"] = selectors.points_entries(member)
                context["u_values"] = selectors.u_value_entries(member)
    return render(request, "members/lookup.html", context)


@permission_required("members.view")
def member_list(request):
    filterset = MemberFilter(request.GET, queryset=selectors.member_list())
    table = MemberTable(filterset.qs, request=request)
    RequestConfig(request, paginate={"per_page": 20}).configure(table)
    return render(request, "members/member_list.html", {"filter": filterset, "table": table})


@permission_required("members.import")
def member_import(request):
    form = MemberImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        imp = services.start_member_import(actor=request.user, upload=form.cleaned_data["file"])
        messages.success(request, _("The import is queued; its result appears on the job page."))
        return redirect("core:job_detail", pk=imp.job_id)
    table = MemberImportTable(selectors.member_imports_for(request.user))
    RequestConfig(request, paginate={"per_page": 20}).configure(table)
    return render(request, "members/member_import.html", {"form": form, "table": table})
