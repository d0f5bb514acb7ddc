"""Counter pages: member lookup → 核销优惠券 → SMS code → 关联订单 → receipt;
优惠券核销记录 with 退券/关联订单."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from couponhub.core.errors import Refused
from couponhub.core.forms import id_from, ids_from
from couponhub.core.money import format_yuan
from couponhub.core.pagination import UnionPaginator
from couponhub.core.permissions import (
    get_scoped_or_404,
    has_perm,
    mask_phone,
    permission_required,
    require_in_scope,
    scope_ids,
)
from couponhub.core.stores import current_store
from coupons import selectors as coupon_selectors
from coupons.models import Coupon
from members import selectors as member_selectors
from members.models import Member, MemberOrder
from redemption import selectors, services
from redemption.filters import OutsideRecordFilter, RecordFilter
from redemption.models import OutsideCoupon, Redemption, RedemptionLine, SmsChallenge
from redemption.tables import RecordTable

COUNTER_APP = "门店后台"
PAGE_SIZE = 20
SECTIONS = ("coupons", "orders", "products", "points")
TAB_LABELS = {
    "usable": gettext_lazy("Usable here"),
    "unusable": gettext_lazy("Not usable here"),
    "used": gettext_lazy("Used"),
    "expired": gettext_lazy("Expired"),
    "voided": gettext_lazy("Voided"),
    "frozen": gettext_lazy("Frozen"),
}


def _counter_store(request):
    store = current_store(request)
    if store is None:
        raise PermissionDenied
    require_in_scope(request.user, "redemption.redeem", store)
    return store


def _lookup_url(q: str, **extra) -> str:
    params = {"q": q, "view": "coupons", "tab": "usable", **extra}
    return f"{reverse('redemption:lookup')}?{urlencode(params)}"


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
        # the 本店可用 tab becomes the selection form for 核销优惠券
        "can_redeem": has_perm(request.user, "redemption.redeem", store),
        "selected": request.GET.get("selected", "").split(","),
    }
    if "q" in request.GET:
        result = member_selectors.find_member(q)
        context["error"] = result.error
        member = result.member
        if member is not None:
            now = timezone.now()
            counts = coupon_selectors.wallet_counts(member, store, now)
            context.update(
                member=member,
                masked_phone=mask_phone(member.phone, request.user),
                counts=counts,
                counters=member_selectors.member_counters(member, store),
                tabs=[(t, TAB_LABELS[t], counts[t]) for t in coupon_selectors.TABS],
            )
            if section == "coupons":
                per_page = coupon_selectors.WALLET_PAGE
                pages = max(1, -(-counts[tab] // per_page))
                page = request.GET.get("page", "1")
                page = min(pages, max(1, int(page))) if page.isdigit() else 1
                context.update(page=page, pages=pages, tab_count=counts[tab])
                context["coupons"] = coupon_selectors.wallet_tab(
                    member, store, tab, now, page=page, per_page=per_page
                )
                context["outside_coupons"] = selectors.member_outside_coupons(member)
                if tab == "usable" and context["can_redeem"]:
                    # 关联订单 up front: the coupons are checked against it before the SMS
                    context["link_orders"] = selectors.orders_for_linking(member, store)
                    context["chosen_order"] = request.GET.get("order", "")
            elif section == "orders":
                context["orders"] = member_selectors.recent_orders(member, store)
            elif section == "products":
                context["products"] = member_selectors.frequent_products(member, store)
            else:
                context["points"] = member_selectors.points_entries(member)
                context["u_values"] = member_selectors.u_value_entries(member)
    return render(request, "redemption/lookup.html", context)


@require_POST
@permission_required("redemption.redeem")
def start(request):
    """核销优惠券: check the selection and text the code to the member's phone."""
    store = _counter_store(request)
    q = request.POST.get("q", "")
    try:
        member = Member.objects.get(pk=request.POST.get("member"))
    except (Member.DoesNotExist, ValueError):
        raise Http404 from None
    ids = ids_from(request.POST.getlist("coupon"))
    order_pk = id_from(request.POST.get("order", ""))
    order = None
    if order_pk is not None:
        order = MemberOrder.objects.filter(pk=order_pk, store=store).first()
        if order is None:
            raise Http404
    try:
        challenge = services.start_sms_challenge(
            member=member, store=store, coupon_ids=ids, actor=request.user, order=order
        )
    except Refused as exc:
        messages.error(request, exc.message)
        selected = ",".join(str(i) for i in ids)
        return redirect(_lookup_url(q, selected=selected, order=order_pk or ""))
    return redirect(f"{reverse('redemption:verify', args=[challenge.pk])}?{urlencode({'q': q})}")


@require_POST
@permission_required("redemption.redeem")
def recharge(request):
    """充值券: the card's number tops up the member's stored value (no SMS: the card is the
    proof, and it only adds to the member's balance)."""
    store = _counter_store(request)
    q = request.POST.get("q", "")
    try:
        member = Member.objects.get(pk=request.POST.get("member"))
    except (Member.DoesNotExist, ValueError):
        raise Http404 from None
    number = request.POST.get("number", "")
    try:
        redemption = services.redeem_recharge_coupon(
            store=store, number=number, member=member, actor=request.user, app=COUNTER_APP
        )
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        member.refresh_from_db(fields=["stored_value"])
        coupon = redemption.redeemed_coupons[0]
        messages.success(
            request,
            f"充值券{number.strip()}已充值{format_yuan(coupon.rule.face_value)}，"
            f"储值余额{format_yuan(member.stored_value)}",
        )
    return redirect(_lookup_url(q))


def _challenge(request, pk) -> SmsChallenge:
    qs = SmsChallenge.objects.select_related("member", "store")
    challenge = get_scoped_or_404(request.user, "redemption.redeem", qs, "store", pk=pk)
    if challenge.clerk_id != request.user.pk:
        raise Http404
    return challenge


@permission_required("redemption.redeem")
def verify(request, pk):
    """Type the code the member received; Enter submits; the error stands under the input."""
    challenge = _challenge(request, pk)
    store = _counter_store(request)
    q = request.GET.get("q") or request.POST.get("q", "")
    error = ""
    status = 200
    if request.method == "POST":
        if "resend" in request.POST:
            try:
                services.resend_sms_code(challenge=challenge, actor=request.user)
                messages.success(request, "验证码已重新发送")
                return redirect(f"{request.path}?{urlencode({'q': q})}")
            except Refused as exc:
                error, status = exc.message, 400
        else:
            try:
                redemption = services.verify_and_redeem(
                    challenge=challenge,
                    code=request.POST.get("code", ""),
                    coupon_ids=ids_from(request.POST.getlist("coupon")),
                    store=store,
                    actor=request.user,
                    app=COUNTER_APP,
                )
            except Refused as exc:
                error, status = exc.message, 400
            else:
                if redemption.order_id:  # the order chosen before the check is linked
                    url = reverse("redemption:receipt", args=[redemption.pk])
                    return redirect(f"{url}?{urlencode({'q': q})}")
                url = reverse("redemption:link", args=[redemption.pk])
                return redirect(f"{url}?{urlencode({'q': q, 'flow': 1})}")
        challenge.refresh_from_db()
    coupons = Coupon.objects.filter(pk__in=challenge.coupon_ids).select_related("rule")
    resend_at = challenge.last_sent_at + services.RESEND_AFTER
    wait = int((resend_at - timezone.now()).total_seconds())
    context = {
        "challenge": challenge,
        "coupons": coupons,
        "masked_phone": mask_phone(challenge.phone, request.user),
        "error": error,
        "q": q,
        "resend_wait": max(0, wait),
        "closed": challenge.status != SmsChallenge.Status.PENDING,
    }
    return render(request, "redemption/verify.html", context, status=status)


def _redemption(request, pk, perm) -> Redemption:
    return get_scoped_or_404(request.user, perm, selectors.redemption_detail(pk), "store", pk=pk)


@permission_required("redemption.link_order")
def link(request, pk):
    """订单选择: the member's orders here (刷新 reloads); 关联订单 or 暂不关联订单."""
    redemption = _redemption(request, pk, "redemption.link_order")
    q = request.GET.get("q") or request.POST.get("q", "")
    flow = request.GET.get("flow") or request.POST.get("flow")
    receipt = f"{reverse('redemption:receipt', args=[redemption.pk])}?{urlencode({'q': q})}"
    error = ""
    if redemption.order_id:
        messages.info(request, "该核销记录已关联订单")
        return redirect(receipt)
    if request.method == "POST":
        if "skip" in request.POST:
            return redirect(receipt)
        order_id = request.POST.get("order")
        order = None
        if id_from(order_id) is not None:
            order = MemberOrder.objects.filter(pk=order_id, store=redemption.store).first()
        if order is None:
            error = "请选择要关联的订单"
        else:
            try:
                services.link_order(redemption=redemption, order=order, actor=request.user)
            except Refused as exc:
                error = exc.message
            else:
                messages.success(request, f"已关联订单{order.order_no}")
                if flow:
                    return redirect(receipt)
                return redirect("redemption:records")
    orders = (
        selectors.orders_for_linking(redemption.member, redemption.store)
        if redemption.member_id
        else MemberOrder.objects.none()
    )
    context = {
        "redemption": redemption,
        "orders": orders,
        "error": error,
        "q": q,
        "flow": flow,
        "lines": redemption.lines.select_related("coupon__rule"),
    }
    return render(request, "redemption/link.html", context, status=400 if error else 200)


@permission_required("redemption.redeem")
def receipt(request, pk):
    redemption = _redemption(request, pk, "redemption.redeem")
    context = {
        "redemption": redemption,
        "lines": redemption.lines.select_related("coupon__rule"),
        "q": request.GET.get("q", ""),
        "masked_phone": mask_phone(redemption.member.phone, request.user)
        if redemption.member_id
        else "",
    }
    return render(request, "redemption/receipt.html", context)


@permission_required("redemption.view_records")
def records(request):
    """优惠券核销记录, scoped to the user's stores; POST exports the filtered list."""
    if request.method == "POST":
        query = {k: v for k, v in request.GET.items() if k not in ("page", "sort") and v}
        total = selectors.records_for(request.user, query).count()
        job = services.start_records_export(actor=request.user, query=query, total=total)
        return redirect("core:job_detail", pk=job.pk)
    perm = "redemption.view_records"
    # the user's stores by id: a store's lines walk (store, -created_at), not every store's
    ids = scope_ids(request.user, perm)
    qs, theirs = selectors.record_lines(), OutsideCoupon.objects.all()
    if ids is not None:
        qs = qs.filter(redemption__store_id__in=ids)
        theirs = theirs.filter(used_store_id__in=ids)
    filterset = RecordFilter(request.GET, queryset=qs, user=request.user)
    # outside-coupon redemptions (消费号) are rows of the list too, under the same filters
    outside_rows = OutsideRecordFilter(_valid_filters(filterset), queryset=theirs).qs
    parts = selectors.record_parts(filterset.qs, outside_rows)
    # no request= here: django-tables2 would page it at once with its own Paginator (a count of
    # every row); RequestConfig below gives the table the request
    table = RecordTable(
        selectors.record_rows(parts),
        can_return=has_perm(request.user, "redemption.return"),
        can_link=has_perm(request.user, "redemption.link_order"),
    )
    # a UNION of two tables: each is cut to the page before the UNION, deep pages by keyset
    RequestConfig(
        request,
        paginate={
            "per_page": PAGE_SIZE,
            "paginator_class": UnionPaginator,
            "request": request,
            "parts": parts,
        },
    ).configure(table)
    return render(request, "redemption/records.html", {"filter": filterset, "table": table})


def _valid_filters(filterset) -> dict:
    """The records filters as the form took them (a value it refused, e.g. an org outside the
    user's scope, is left out), for the outside-coupon rows."""
    if not filterset.form.is_valid():
        return {}
    values = {}
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, ""):
            continue
        values[name] = value.pk if hasattr(value, "pk") else value
    return values


@require_POST
@permission_required("redemption.return")
def return_line(request, pk):
    """退券 of one line, once."""
    line = get_scoped_or_404(
        request.user,
        "redemption.return",
        RedemptionLine.objects.select_related("coupon__rule", "redemption__store"),
        "redemption__store",
        pk=pk,
    )
    try:
        services.return_redemption_line(line=line, actor=request.user)
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        line.coupon.refresh_from_db()
        if line.coupon.effective_status() == Coupon.Status.EXPIRED:
            messages.warning(request, f"券{line.coupon.code}已退回，但已过有效期，会员不可再使用")
        else:
            messages.success(request, f"券{line.coupon.code}已退回为未使用")
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("redemption:records")
