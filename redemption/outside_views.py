"""Outside coupon pages (seed 003): bind shops, activities, product mappings, till redemption."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from couponhub.core.audit import action_label, describe_changes
from couponhub.core.errors import Refused
from couponhub.core.permissions import (
    any_perm,
    get_scoped_or_404,
    has_perm,
    mask_phone,
    permission_required,
    scoped,
)
from couponhub.core.stores import current_store
from members.models import MemberOrder
from redemption import outside, selectors
from redemption.filters import OutsideArchiveFilter
from redemption.forms import PERM, ActivityForm, BindShopForm, MappingForm, OutsideRedeemForm
from redemption.models import OutsideActivity, OutsideCoupon, OutsideProductMapping, OutsideShop
from redemption.services import Item
from redemption.tables import OutsideArchiveTable


@permission_required(PERM)
def shops(request):
    form = BindShopForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        shop = outside.bind_shop(actor=request.user, **form.cleaned_data)
        messages.success(request, f"{shop.name}已绑定")
        return redirect("redemption:outside_shops")
    rows = scoped(request.user, PERM, OutsideShop.objects.select_related("org"), "org")
    return render(request, "redemption/outside_shops.html", {"form": form, "shops": rows})


@require_POST
@permission_required(PERM)
def unbind(request, pk):
    shop = get_scoped_or_404(request.user, PERM, OutsideShop.objects.all(), "org", pk=pk)
    outside.unbind_shop(actor=request.user, shop=shop)
    messages.success(request, f"{shop.name}已解除绑定")
    return redirect("redemption:outside_shops")


@permission_required(PERM)
def activities(request):
    form = ActivityForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        activity = form.save(commit=False)
        outside.save_activity(
            actor=request.user, activity=activity, stores=form.cleaned_data["stores"]
        )
        messages.success(request, f"活动{activity.name}已保存")
        return redirect("redemption:outside_activities")
    rows = scoped(
        request.user,
        PERM,
        OutsideActivity.objects.select_related("product").prefetch_related("stores"),
        "org",
    )
    return render(request, "redemption/outside_activities.html", {"form": form, "rows": rows})


@permission_required(PERM)
def activity_edit(request, pk):
    """编辑活动: e.g. add the store the till said 店不能使用该票券 for (the seed's fix)."""
    activity = get_scoped_or_404(request.user, PERM, OutsideActivity.objects.all(), "org", pk=pk)
    form = ActivityForm(request.POST or None, instance=activity, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            outside.save_activity(
                actor=request.user,
                activity=form.save(commit=False),
                stores=form.cleaned_data["stores"],
            )
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"活动{activity.name}已保存")
            return redirect("redemption:outside_activities")
    return render(
        request, "redemption/outside_activity_edit.html", {"form": form, "activity": activity}
    )


@permission_required(PERM)
def mappings(request):
    form = MappingForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        outside.save_mapping(actor=request.user, mapping=form.save(commit=False))
        messages.success(request, "票券已关联")
        return redirect("redemption:outside_mappings")
    rows = scoped(
        request.user,
        PERM,
        OutsideProductMapping.objects.select_related("shop", "activity"),
        "shop__org",
    )
    return render(request, "redemption/outside_mappings.html", {"form": form, "rows": rows})


@permission_required("redemption.redeem")
def till(request):
    """票券核销 at the counter: scan or type the consumption number (J…) + Enter."""
    store = current_store(request)
    form = OutsideRedeemForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid() and store is not None:
        order_no = form.cleaned_data["order_no"].strip()
        items = None
        if order_no:
            order = MemberOrder.objects.filter(store=store, order_no=order_no).first()
            if order is None:
                form.add_error("order_no", f"本店没有订单{order_no}")
            else:
                items = [Item(sku=i.sku, amount=i.amount) for i in order.items.all()]
        if form.is_valid():
            try:
                coupon = outside.redeem_outside_coupon(
                    code=form.cleaned_data["code"],
                    store=store,
                    items=items,
                    order_no=order_no,
                    operator=request.user.get_username(),
                    actor=request.user,
                )
            except Refused as exc:
                error = exc.message
            else:
                messages.success(
                    request, f"票券【消费号{coupon.code}】{coupon.activity.name}核销成功"
                )
                return redirect("redemption:outside_till")
    recent = (
        OutsideCoupon.objects.filter(used_store=store)
        .select_related("activity")
        .order_by("-used_at", "-id")[:20]
    )
    status = 400 if error or form.errors else 200
    today = timezone.localdate()
    for coupon in recent:  # 退券 on the day of use, once
        coupon.returnable = (
            coupon.returned_at is None and timezone.localdate(coupon.used_at) == today
        )
    context = {"form": form, "error": error, "recent": recent, "store": store}
    return render(request, "redemption/outside_till.html", context, status=status)


@require_POST
@permission_required("redemption.return")
def till_return(request, pk):
    """退券 of an outside coupon redeemed at this store today."""
    store = current_store(request)
    coupon = get_scoped_or_404(
        request.user, "redemption.return", OutsideCoupon.objects.all(), "used_store", pk=pk
    )
    if store is None:
        raise Http404
    try:
        outside.return_outside_coupon(
            coupon=coupon, store=store, operator=request.user.get_username(), actor=request.user
        )
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"票券【消费号{coupon.code}】已退券，可再次使用")
    return redirect("redemption:outside_till")


@permission_required(PERM)
def archive(request):
    """票券档案: every outside coupon of the user's shops with its status, shop, mapping,
    redeeming store and time; filters; 导出 as a background job."""
    base = scoped(request.user, PERM, selectors.outside_coupons(), "shop__org")
    filterset = OutsideArchiveFilter(request.GET, queryset=base)
    if request.method == "POST":
        query = {k: v for k, v in request.GET.items() if k != "page" and v}
        job = outside.start_archive_export(
            actor=request.user, query=query, total=filterset.qs.count()
        )
        return redirect("core:job_detail", pk=job.pk)
    table = OutsideArchiveTable(filterset.qs, request=request)
    RequestConfig(request, paginate={"per_page": 20}).configure(table)
    return render(request, "redemption/outside_archive.html", {"filter": filterset, "table": table})


@login_required
def coupon_detail(request, pk):
    """One outside coupon (消费号): status, shop, mapping, activity, member, where and when it was
    redeemed or returned, its history and the partner shop's redemption notices. Scope as the
    archive's and the till's (redemption.selectors.outside_coupon_scope): anything else is 404."""
    user = request.user
    if not any_perm(user, (PERM, "redemption.redeem")):
        raise PermissionDenied
    coupon = get_object_or_404(selectors.outside_coupon_detail(user), pk=pk)
    history = [
        (
            entry,
            action_label(entry.action),
            describe_changes(entry.object_type, entry.before, entry.after),
        )
        for entry in selectors.outside_coupon_history(coupon)
    ]
    phone = coupon.phone or (coupon.member.phone if coupon.member_id else "")
    context = {
        "coupon": coupon,
        "phone": mask_phone(phone, user) if phone else "",
        "history": history,
        "callbacks": selectors.outside_coupon_callbacks(coupon)[:20],
        "can_see_deliveries": has_perm(user, "core.manage_events"),
        "can_archive": has_perm(user, PERM),
    }
    return render(request, "redemption/outside_coupon.html", context)
