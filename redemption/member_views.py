"""The member detail page: profile (with edit and phone change), ledgers with manual
adjustments, coupons in every state, orders, redemptions; and what a clerk or operator does for
the member — 领券 / 购券 / U享兑换 / 转赠 / 作废 / 冻结 — each through the owning app's service.

Opened by whoever may look members up (clerk at the counter: `members.lookup`) or view them
(operator, HQ: `members.view`); members are the chain's, so any member opens, while orders and
redemptions show only those at stores inside the user's scope. Every action checks its own
permission (403 without it)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.permissions import any_perm, has_perm, mask_phone, require, scope_q
from couponhub.core.stores import current_store
from coupons import selectors as coupon_selectors
from coupons import services as coupon_services
from coupons.models import Coupon, CouponRule
from members import selectors as member_selectors
from members import services as member_services
from members.forms import MemberTagsForm
from members.models import Member
from redemption import selectors
from redemption.member_forms import (
    AdjustForm,
    IssueForm,
    PhoneChangeForm,
    PhoneCodeForm,
    ProfileForm,
    PurchaseForm,
    TransferForm,
)

VIEW_PERMS = ("members.lookup", "members.view")
ISSUE = "coupons.issue_to_member"
VOID_FREEZE = "coupons.void_freeze"
TAGS = "members.manage_tags"


def _member(request, pk: int) -> Member:
    if not any_perm(request.user, VIEW_PERMS):
        raise PermissionDenied
    return get_object_or_404(Member.objects.select_related("registration_store"), pk=pk)


def _store_scope(user) -> Q:
    """Stores whose orders and redemptions the user sees: own stores for a clerk, the scope of
    members.view for an operator or HQ."""
    return scope_q(user, "members.lookup", "store") | scope_q(user, "members.view", "store")


def _issue_store(request):
    """A clerk offers what is usable at the current store; an operator (no counter) everything."""
    return current_store(request) if not has_perm(request.user, "members.view") else None


def _u_labeller(member: Member):
    def label(rule: CouponRule) -> str:
        after = member.u_value - (rule.u_value_price or 0)
        if after >= 0:
            shown = _("balance after: %(after)sU") % {"after": after}
        else:
            shown = _("not enough U-value (%(short)sU short)") % {"short": -after}
        return f"{rule.name} · {rule.u_value_price}U · {shown}"

    return label


def _price_labeller(rule: CouponRule) -> str:
    return f"{rule.name} · ¥{rule.sale_price:,.2f}"


def _forms(request, member: Member) -> dict:
    store = _issue_store(request)
    return {
        "claim_form": IssueForm(
            rules=coupon_selectors.rules_for_member_action("claim", store), auto_id="claim-%s"
        ),
        "purchase_form": PurchaseForm(
            rules=coupon_selectors.rules_for_member_action("purchase", store),
            labeller=_price_labeller,
            auto_id="purchase-%s",
        ),
        "exchange_form": IssueForm(
            rules=coupon_selectors.rules_for_member_action("exchange", store),
            labeller=_u_labeller(member),
            auto_id="exchange-%s",
        ),
        "profile_form": ProfileForm(
            initial={
                "name": member.name,
                "gender": member.gender,
                "birthday": member.birthday,
                "sms_opt_out": member.sms_opt_out,
            }
        ),
        "phone_code_form": PhoneCodeForm(),
        "phone_form": PhoneChangeForm(),
        "adjust_form": AdjustForm(),
        "tags_form": MemberTagsForm(initial={"tags": list(member.tags.all())}, auto_id="tags-%s"),
    }


@login_required
def member_detail(request, pk: int):
    member = _member(request, pk)
    user = request.user
    scope = _store_scope(user)
    context = {
        "member": member,
        "masked_phone": mask_phone(member.phone, user),
        "coupons": coupon_selectors.member_coupons(member),
        "orders": member_selectors.member_orders(member, scope),
        "lines": selectors.member_redemption_lines(member, _line_scope(user)),
        "u_values": member_selectors.u_value_entries(member),
        "points": member_selectors.points_entries(member),
        "stored_values": member_selectors.stored_value_entries(member),
        "can_edit": has_perm(user, "members.edit"),
        "can_adjust": has_perm(user, "members.adjust_balance"),
        "can_issue": has_perm(user, ISSUE),
        "can_void_freeze": has_perm(user, VOID_FREEZE),
        "can_tag": has_perm(user, TAGS),
        "tags": member.tags.all(),
        **_forms(request, member),
    }
    return render(request, "redemption/member_detail.html", context)


def _line_scope(user) -> Q:
    return scope_q(user, "members.lookup", "redemption__store") | scope_q(
        user, "members.view", "redemption__store"
    )


def _done(request, member: Member, message: str, anchor: str = ""):
    messages.success(request, message)
    return redirect(f"{member_url(member)}{anchor}")


def member_url(member: Member) -> str:
    return reverse("redemption:member_detail", args=[member.pk])


def _refuse(request, member: Member, exc: Refused, anchor: str = ""):
    messages.error(request, exc.message)
    return redirect(f"{member_url(member)}{anchor}")


def _form_error(request, member: Member, form, anchor: str = ""):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)
    return redirect(f"{member_url(member)}{anchor}")


@login_required
@require_POST
def member_action(request, pk: int, action: str):
    member = _member(request, pk)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    perm, anchor, run = handler
    require(request.user, perm)
    try:
        return run(request, member, anchor)
    except Refused as exc:
        return _refuse(request, member, exc, anchor)


def _profile(request, member, anchor):
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _form_error(request, member, form, anchor)
    member_services.update_member_profile(actor=request.user, member=member, **form.cleaned_data)
    return _done(request, member, _("Member profile saved."), anchor)


def _phone_code(request, member, anchor):
    form = PhoneCodeForm(request.POST)
    if not form.is_valid():
        return _form_error(request, member, form, anchor)
    phone = form.cleaned_data["new_phone"]
    member_services.send_phone_change_code(actor=request.user, member=member, new_phone=phone)
    messages.success(
        request,
        _("A code has been sent to the new phone %(phone)s; it is valid for 5 minutes.")
        % {"phone": mask_phone(phone)},
    )
    return redirect(f"{member_url(member)}?new_phone={phone}{anchor}")


def _phone_change(request, member, anchor):
    form = PhoneChangeForm(request.POST)
    if not form.is_valid():
        return _form_error(request, member, form, anchor)
    member_services.change_member_phone(actor=request.user, member=member, **form.cleaned_data)
    return _done(request, member, _("The member's phone has been changed."), anchor)


def _tags(request, member, anchor):
    form = MemberTagsForm(request.POST)
    if not form.is_valid():
        return _form_error(request, member, form, anchor)
    member_services.set_member_tags(
        actor=request.user, member=member, tags=form.cleaned_data["tags"]
    )
    return _done(request, member, _("Member tags saved."), anchor)


def _adjust(request, member, anchor):
    form = AdjustForm(request.POST)
    if not form.is_valid():
        return _form_error(request, member, form, anchor)
    entry = member_services.adjust_balance(
        actor=request.user, store=current_store(request), member=member, **form.cleaned_data
    )
    return _done(
        request,
        member,
        _("Adjusted; balance after: %(after)s") % {"after": entry.balance_after},
        anchor,
    )


def _issue(action):
    def run(request, member, anchor):
        store = _issue_store(request)
        rules = coupon_selectors.rules_for_member_action(action, store)
        form_class = PurchaseForm if action == "purchase" else IssueForm
        form = form_class(request.POST, rules=rules)
        if not form.is_valid():
            return _form_error(request, member, form, anchor)
        rule = form.cleaned_data["rule"]
        if action == "claim":
            coupon = coupon_services.claim_coupon(actor=request.user, rule=rule, member=member)
            done = _("Claimed: %(name)s (code %(code)s)") % {"name": rule.name, "code": coupon.code}
        elif action == "purchase":
            coupon = coupon_services.purchase_coupon(
                actor=request.user,
                rule=rule,
                member=member,
                payment_method=form.cleaned_data["payment_method"],
            )
            done = _("Bought: %(name)s (code %(code)s), ¥%(price)s paid by %(method)s") % {
                "name": rule.name,
                "code": coupon.code,
                "price": f"{coupon.price_paid:,.2f}",
                "method": coupon.payment_method,
            }
        else:
            coupon = coupon_services.exchange_coupon(actor=request.user, rule=rule, member=member)
            member.refresh_from_db(fields=["u_value"])
            done = _(
                "Exchanged: %(name)s (code %(code)s), %(paid)sU deducted, U-value balance %(left)sU"
            ) % {
                "name": rule.name,
                "code": coupon.code,
                "paid": coupon.u_value_paid,
                "left": member.u_value,
            }
        return _done(request, member, done, anchor)

    return run


def _coupon(member: Member, request) -> Coupon:
    try:
        pk = int(request.POST.get("coupon", ""))
    except ValueError:
        raise Http404 from None
    # only the coupons of this member: another member's coupon id is simply not there
    return get_object_or_404(Coupon.objects.select_related("rule"), pk=pk, member=member)


def _status(service, done):
    def run(request, member, anchor):
        coupon = _coupon(member, request)
        service(actor=request.user, coupon=coupon)
        return _done(request, member, str(done) % {"code": coupon.code}, anchor)

    return run


def _transfer(request, member, anchor):
    form = TransferForm(request.POST)
    if not form.is_valid():
        return _form_error(request, member, form, anchor)
    coupon = _coupon(member, request)
    found = member_selectors.find_member(form.cleaned_data["to"])
    if found.member is None:
        raise Refused(
            "member_not_found",
            _("Transfer to: %(error)s") % {"error": found.error},
            404,
        )
    coupon_services.transfer_coupon(
        actor=request.user, coupon=coupon, from_member=member, to_member=found.member
    )
    target = found.member
    done = _("Coupon %(code)s transferred to %(name)s (%(card)s).") % {
        "code": coupon.code,
        "name": target.name or target.member_no,
        "card": target.card_no,
    }
    return _done(request, member, done, anchor)


ACTIONS = {
    "profile": ("members.edit", "#profile", _profile),
    "phone-code": ("members.edit", "#profile", _phone_code),
    "phone": ("members.edit", "#profile", _phone_change),
    "adjust": ("members.adjust_balance", "#ledgers", _adjust),
    "tags": (TAGS, "#tags", _tags),
    "claim": (ISSUE, "#coupons", _issue("claim")),
    "purchase": (ISSUE, "#coupons", _issue("purchase")),
    "exchange": (ISSUE, "#coupons", _issue("exchange")),
    "transfer": (ISSUE, "#coupons", _transfer),
    "void": (
        VOID_FREEZE,
        "#coupons",
        _status(coupon_services.void_coupon, gettext_lazy("Coupon %(code)s voided.")),
    ),
    "freeze": (
        VOID_FREEZE,
        "#coupons",
        _status(coupon_services.freeze_coupon, gettext_lazy("Coupon %(code)s frozen.")),
    ),
    "unfreeze": (
        VOID_FREEZE,
        "#coupons",
        _status(coupon_services.unfreeze_coupon, gettext_lazy("Coupon %(code)s unfrozen.")),
    ),
}
