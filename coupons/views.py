from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry, Job
from couponhub.core.permissions import (
    get_scoped_or_404,
    has_perm,
    permission_required,
    require_in_scope,
    scoped,
)
from couponhub.core.stores import current_store
from couponhub.core.views import paginate
from coupons import selectors, services
from coupons.filters import CampaignFilter, CouponFilter, CouponRuleFilter
from coupons.forms import (
    ActivationForm,
    CampaignForm,
    CouponRuleForm,
    DistributeForm,
    GiftForm,
    PrintCouponsForm,
    ReceiveForm,
    RejectForm,
)
from coupons.models import Campaign, Coupon, CouponRule
from coupons.services import activation as activation_services
from coupons.services import printing
from coupons.tables import (
    ActivationRuleTable,
    CampaignTable,
    CouponRuleTable,
    CouponTable,
    RuleReviewTable,
)

RULE_SCOPE = "creating_org"


def _paginate(request, table):
    return paginate(request, table)


def _rule(request, pk: int, perm: str) -> CouponRule:
    return get_scoped_or_404(request.user, perm, selectors.rule_list(), RULE_SCOPE, pk=pk)


# --- rules ----------------------------------------------------------------------------------------


@permission_required("coupons.view")
def rule_list(request):
    qs = scoped(request.user, "coupons.view", selectors.rule_list(), RULE_SCOPE)
    filterset = CouponRuleFilter(request.GET, queryset=qs)
    table = _paginate(request, CouponRuleTable(filterset.qs))
    return render(
        request,
        "coupons/rule_list.html",
        {
            "filter": filterset,
            "table": table,
            "can_edit": has_perm(request.user, "coupons.edit_rules"),
        },
    )


REVIEW_TABS = [
    (CouponRule.Status.IN_REVIEW, _lazy("Pending review")),
    (CouponRule.Status.APPROVED, CouponRule.Status.APPROVED.label),
    ("rejected", _lazy("Rejected")),
    ("", _lazy("All")),
]


@permission_required("coupons.approve_rules")
def rule_review(request):
    """财务审核: the rules in review by default (待审核), batch 审核通过 / 驳回 with a reason."""
    status = request.GET.get("status", CouponRule.Status.IN_REVIEW)
    base = scoped(request.user, "coupons.approve_rules", selectors.rule_list(), RULE_SCOPE)
    data = request.GET.copy()
    data.pop("status", None)  # the tabs choose the status (驳回 is no status of its own)
    filterset = CouponRuleFilter(data, queryset=base)
    del filterset.filters["status"]
    qs = filterset.qs
    if status == "rejected":  # 驳回 sends a rule back to draft with its reason
        qs = qs.filter(status=CouponRule.Status.DRAFT).exclude(reject_reason="")
    elif status in CouponRule.Status.values:
        qs = qs.filter(status=status)
    table = _paginate(request, RuleReviewTable(qs))
    tabs = [{"key": key, "label": label, "active": key == status} for key, label in REVIEW_TABS]
    return render(
        request,
        "coupons/rule_review.html",
        {"filter": filterset, "table": table, "tabs": tabs, "status": status},
    )


@require_POST
@permission_required("coupons.approve_rules")
def rule_review_batch(request):
    ids = [int(i) for i in request.POST.getlist("selection") if i.isdigit()]
    rules = list(
        scoped(request.user, "coupons.approve_rules", CouponRule.objects.all(), RULE_SCOPE)
        .filter(pk__in=ids)
        .order_by("pk")
    )
    decision = request.POST.get("decision")
    if not rules:
        messages.error(request, "请选择要审核的券规则")
    elif decision in ("approve", "reject"):
        try:
            moved, refused = services.review_rules(
                actor=request.user,
                rules=rules,
                approve=decision == "approve",
                reason=request.POST.get("reason", ""),
            )
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            verb = "审核通过" if decision == "approve" else "驳回"
            if moved:
                messages.success(request, f"已{verb}{len(moved)}条券规则")
            for code, why in refused.items():
                messages.error(request, f"券规则{code}：{why}")
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("coupons:rule_review")


def _is_draft(request) -> bool:
    """暂存 (any POST but 保存) saves an incomplete draft."""
    return request.method == "POST" and request.POST.get("action") != "create"


def _save_rule_form(request, form, confirm_default=False):
    rule = form.save(commit=False)
    try:
        services.save_rule(
            actor=request.user,
            rule=rule,
            usable_orgs=form.cleaned_data["usable_orgs"],
            excluded_categories=form.cleaned_data.get("excluded_categories") or [],
            confirm=request.POST.get("action") == "create" or confirm_default,
        )
    except Refused as exc:
        form.add_error(None, str(exc))
        return None
    return rule


@permission_required("coupons.edit_rules")
def rule_create(request):
    form = CouponRuleForm(request.POST or None, user=request.user, draft=_is_draft(request))
    if request.method == "POST" and form.is_valid():
        require_in_scope(request.user, "coupons.edit_rules", form.cleaned_data["creating_org"])
        rule = _save_rule_form(request, form)
        if rule:
            messages.success(request, _("Coupon rule %(code)s saved.") % {"code": rule.code})
            return redirect("coupons:rule_detail", pk=rule.pk)
    return render(request, "coupons/rule_form.html", {"form": form, "rule": None})


@permission_required("coupons.edit_rules")
def rule_edit(request, pk: int):
    rule = _rule(request, pk, "coupons.edit_rules")
    if rule.status not in services.EDITABLE:
        messages.error(request, "只有暂存或创建状态的券规则可以修改")
        return redirect("coupons:rule_detail", pk=rule.pk)
    form = CouponRuleForm(
        request.POST or None, instance=rule, user=request.user, draft=_is_draft(request)
    )
    if request.method == "POST" and form.is_valid():
        require_in_scope(request.user, "coupons.edit_rules", form.cleaned_data["creating_org"])
        if _save_rule_form(request, form):
            messages.success(request, _("Coupon rule %(code)s saved.") % {"code": rule.code})
            return redirect("coupons:rule_detail", pk=rule.pk)
    return render(request, "coupons/rule_form.html", {"form": form, "rule": rule})


@permission_required("coupons.view")
def rule_detail(request, pk: int):
    rule = _rule(request, pk, "coupons.view")
    user = request.user
    excluded = rule.excluded_categories.select_related("parent")
    org = rule.creating_org
    audit = AuditEntry.objects.filter(
        object_type="coupons.couponrule", object_id=str(rule.pk)
    ).order_by("-created_at", "-id")[:50]
    return render(
        request,
        "coupons/rule_detail.html",
        {
            "rule": rule,
            "usable_orgs": rule.usable_orgs.all(),
            "excluded_categories": excluded,
            "audit": audit,
            "reject_form": RejectForm(),
            "can_edit": has_perm(user, "coupons.edit_rules", org),
            "can_approve": has_perm(user, "coupons.approve_rules", org),
            "can_issue": has_perm(user, "coupons.issue", org),
            "can_physical": has_perm(user, "coupons.manage_physical", org),
            "editable": rule.status in services.EDITABLE,
            "campaigns": rule.campaigns.all(),
        },
    )


RULE_ACTIONS = {
    "submit": ("coupons.edit_rules", lambda a, r, req: services.submit_rule(actor=a, rule=r)),
    "approve": ("coupons.approve_rules", lambda a, r, req: services.approve_rule(actor=a, rule=r)),
    "reject": (
        "coupons.approve_rules",
        lambda a, r, req: services.reject_rule(actor=a, rule=r, reason=req.POST.get("reason", "")),
    ),
    "disable": (
        "coupons.edit_rules",
        lambda a, r, req: services.set_rule_disabled(actor=a, rule=r, disabled=True),
    ),
    "enable": (
        "coupons.edit_rules",
        lambda a, r, req: services.set_rule_disabled(actor=a, rule=r, disabled=False),
    ),
    "invalidate": (
        "coupons.edit_rules",
        lambda a, r, req: services.set_rule_invalidated(actor=a, rule=r, invalidated=True),
    ),
    "revalidate": (
        "coupons.edit_rules",
        lambda a, r, req: services.set_rule_invalidated(actor=a, rule=r, invalidated=False),
    ),
}


@require_POST
@permission_required("coupons.view")
def rule_action(request, pk: int, action: str):
    if action not in RULE_ACTIONS:
        raise Http404
    perm, do = RULE_ACTIONS[action]
    rule = _rule(request, pk, perm)
    try:
        do(request.user, rule, request)
        messages.success(request, _("Done."))
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect("coupons:rule_detail", pk=rule.pk)


@require_POST
@permission_required("coupons.edit_rules")
def rule_copy(request, pk: int):
    rule = _rule(request, pk, "coupons.edit_rules")
    try:
        copy = services.copy_rule(actor=request.user, rule=rule)
    except Refused as exc:
        messages.error(request, str(exc))
        return redirect("coupons:rule_detail", pk=rule.pk)
    messages.success(request, _("Copied as draft %(code)s.") % {"code": copy.code})
    return redirect("coupons:rule_edit", pk=copy.pk)


# --- physical coupons -----------------------------------------------------------------------------


@require_POST
@permission_required("coupons.manage_physical")
def rule_generate(request, pk: int):
    rule = _rule(request, pk, "coupons.manage_physical")
    try:
        result = services.start_generation(actor=request.user, rule=rule)
    except Refused as exc:
        messages.error(request, str(exc))
        return redirect("coupons:rule_detail", pk=rule.pk)
    if isinstance(result, Job):
        return redirect("core:job_detail", pk=result.pk)
    messages.success(request, _("%(n)s coupons generated.") % {"n": result})
    return redirect("coupons:rule_coupons", pk=rule.pk)


@permission_required("coupons.view")
def rule_coupons(request, pk: int):
    """查看生成: the coupons of a rule, with 领用 and 发放 for physical ones."""
    rule = _rule(request, pk, "coupons.view")
    can_physical = rule.is_physical and has_perm(
        request.user, "coupons.manage_physical", rule.creating_org
    )
    receive_form = ReceiveForm(user=request.user, prefix="r")
    distribute_form = DistributeForm(prefix="d")
    if request.method == "POST" and can_physical:
        step = request.POST.get("step")
        try:
            if step == "receive":
                receive_form = ReceiveForm(request.POST, user=request.user, prefix="r")
                if receive_form.is_valid():
                    d = receive_form.cleaned_data
                    received = services.receive_physical(
                        actor=request.user,
                        rule=rule,
                        code_from=d["code_from"],
                        code_to=d["code_to"],
                        store=d["store"],
                    )
                    messages.success(request, _("%(n)s coupons received.") % {"n": received.count})
                    if received.already:
                        messages.warning(
                            request,
                            f"该券码范围内有{received.already}张券此前已领用，未重复领用",
                        )
                    return redirect("coupons:rule_coupons", pk=rule.pk)
            elif step == "distribute":
                distribute_form = DistributeForm(request.POST, prefix="d")
                if distribute_form.is_valid():
                    d = distribute_form.cleaned_data
                    n = services.distribute_physical(
                        actor=request.user,
                        rule=rule,
                        code_from=d["code_from"],
                        code_to=d["code_to"],
                        customer_name=d["customer_name"],
                        member=d["member"],
                    )
                    messages.success(request, _("%(n)s coupons distributed.") % {"n": n})
                    return redirect("coupons:rule_coupons", pk=rule.pk)
        except Refused as exc:
            messages.error(request, str(exc))
    filterset = CouponFilter(request.GET, queryset=selectors.coupons_of_rule(rule))
    table = _paginate(request, CouponTable(filterset.qs))
    return render(
        request,
        "coupons/rule_coupons.html",
        {
            "rule": rule,
            "filter": filterset,
            "table": table,
            "can_physical": can_physical,
            "receive_form": receive_form,
            "distribute_form": distribute_form,
        },
    )


@permission_required("coupons.issue")
def rule_gift(request, pk: int):
    rule = _rule(request, pk, "coupons.issue")
    form = GiftForm(request.POST or None, request.FILES or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.start_gift_job(
                actor=request.user,
                rule=rule,
                campaign=form.cleaned_data["campaign"],
                upload=form.cleaned_data["file"],
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("core:job_detail", pk=job.pk)
    return render(request, "coupons/rule_gift.html", {"rule": rule, "form": form})


# --- coupons --------------------------------------------------------------------------------------


@permission_required("coupons.view")
def coupon_list(request):
    if request.method == "POST":
        query = {k: v for k, v in request.GET.items() if k not in ("page", "sort") and v}
        total = selectors.coupons_for(request.user, query).count()
        job = services.start_coupon_export(actor=request.user, query=query, total=total)
        return redirect("core:job_detail", pk=job.pk)
    qs = scoped(request.user, "coupons.view", selectors.coupon_list(), "rule__creating_org")
    filterset = CouponFilter(request.GET, queryset=qs)
    table = _paginate(request, CouponTable(filterset.qs))
    return render(request, "coupons/coupon_list.html", {"filter": filterset, "table": table})


COUPON_ACTIONS = {
    "void": services.void_coupon,
    "freeze": services.freeze_coupon,
    "unfreeze": services.unfreeze_coupon,
}


@require_POST
@permission_required("coupons.issue")
def coupon_action(request, pk: int, action: str):
    if action not in COUPON_ACTIONS:
        raise Http404
    coupon = get_scoped_or_404(
        request.user, "coupons.issue", Coupon.objects.all(), "rule__creating_org", pk=pk
    )
    try:
        COUPON_ACTIONS[action](actor=request.user, coupon=coupon)
        messages.success(request, _("Coupon %(code)s updated.") % {"code": coupon.code})
    except Refused as exc:
        messages.error(request, str(exc))
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("coupons:coupon_list")


# --- campaigns ------------------------------------------------------------------------------------


@permission_required("coupons.view")
def campaign_list(request):
    qs = scoped(request.user, "coupons.view", selectors.campaign_list(), "rule__creating_org")
    filterset = CampaignFilter(request.GET, queryset=qs)
    table = _paginate(request, CampaignTable(filterset.qs))
    return render(
        request,
        "coupons/campaign_list.html",
        {
            "filter": filterset,
            "table": table,
            "can_edit": has_perm(request.user, "coupons.manage_campaigns"),
        },
    )


def _campaign_form(request, campaign: Campaign | None):
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        require_in_scope(
            request.user, "coupons.manage_campaigns", form.cleaned_data["rule"].creating_org
        )
        try:
            saved = services.save_campaign(actor=request.user, campaign=form.save(commit=False))
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Campaign %(code)s saved.") % {"code": saved.code})
            return redirect("coupons:campaign_list")
    return render(request, "coupons/campaign_form.html", {"form": form, "campaign": campaign})


@permission_required("coupons.manage_campaigns")
def campaign_create(request):
    return _campaign_form(request, None)


@permission_required("coupons.manage_campaigns")
def campaign_edit(request, pk: int):
    campaign = get_scoped_or_404(
        request.user,
        "coupons.manage_campaigns",
        selectors.campaign_list(),
        "rule__creating_org",
        pk=pk,
    )
    return _campaign_form(request, campaign)


@permission_required("coupons.manage_physical")
def rule_print(request, pk: int):
    """印刷: card sheets of a code range of a physical rule, drawn in the background."""
    rule = _rule(request, pk, "coupons.manage_physical")
    form = PrintCouponsForm(request.POST or None, initial={"notes": rule.description})
    if request.method == "POST" and form.is_valid():
        try:
            job = printing.start_coupon_print(
                actor=request.user,
                rule=rule,
                code_from=form.cleaned_data["code_from"],
                code_to=form.cleaned_data["code_to"],
                layout=form.layout_params(),
                notes=form.cleaned_data["notes"],
                package=form.cleaned_data["package"],
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("core:job_detail", pk=job.pk)
    return render(request, "coupons/rule_print.html", {"rule": rule, "form": form})


@permission_required("coupons.activate")
def activation(request):
    """实物券激活: the store activates the physical coupons it sells, or deactivates them when
    the sale is reversed; the rules sold this way with their counts."""
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        chosen = {
            "rule": d["rule"],
            "code_from": d["code_from"],
            "code_to": d["code_to"],
            "codes": d["codes"],
        }
        store = current_store(request)
        try:
            if d["action"] == "activate":
                n = activation_services.activate_coupons(actor=request.user, store=store, **chosen)
                messages.success(request, _("%(n)s coupons activated.") % {"n": n})
            else:
                n = activation_services.deactivate_coupons(
                    actor=request.user, store=store, reason=d["reason"], **chosen
                )
                messages.success(request, _("%(n)s coupons deactivated.") % {"n": n})
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("coupons:activation")
    table = _paginate(request, ActivationRuleTable(selectors.activation_rules()))
    return render(request, "coupons/activation.html", {"form": form, "table": table})
