"""Back-office order pages: 线上订单, 门店订单 (with 核销), 回收站."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.permissions import has_perm, mask_phone, permission_required, scope_q
from couponhub.core.views import paginate
from pickup import filters, forms, selectors, services, tables
from pickup.models import PickupOrder
from pickup.views.common import MANAGE, VERIFY, VIEW, redirect_back, selected_ids

ONLINE, STORE = PickupOrder.Kind.ONLINE, PickupOrder.Kind.STORE


# ---------------------------------------------------------------------------
# 线上订单
# ---------------------------------------------------------------------------


@permission_required(VIEW)
def online_orders(request):
    tab = request.GET.get("tab")
    if tab not in selectors.ONLINE_TABS:
        tab = "pending"  # an old bookmark's or a mistyped tab opens the default one
    base = selectors.orders_for_list(ONLINE).filter(status=tab)
    filterset = filters.OnlineOrderFilter(request.GET, queryset=base)
    table = paginate(request, tables.OnlineOrderTable(filterset.qs, user=request.user))
    return render(
        request,
        "pickup/orders/online_list.html",
        {
            "tab": tab,
            "tabs": [
                (key, label, n)
                for (key, label), n in zip(
                    [(s.value, s.label) for s in PickupOrder.Status],
                    selectors.online_tab_counts().values(),
                    strict=True,
                )
            ],
            "filter": filterset,
            "table": table,
            "can_manage": has_perm(request.user, MANAGE),
        },
    )


def _order_in_scope(request, pk: int, *, for_action: bool = False) -> PickupOrder:
    """An online order needs pickup.view (pickup.manage to act); a store order is in scope for
    its store's managers (pickup.verify_store_order) and for pickup.view/manage holders."""
    order = get_object_or_404(selectors.orders_for_list(deleted=False), pk=pk)
    perms = [MANAGE] if for_action else [VIEW, MANAGE]
    if order.kind == STORE:
        perms.append(VERIFY)
    if not any(has_perm(request.user, p) for p in perms):
        raise PermissionDenied
    org = order.store.store if order.store_id else None
    if not any(has_perm(request.user, p, org) if org else has_perm(request.user, p) for p in perms):
        raise Http404
    return order


@permission_required(VIEW)
def order_detail(request, pk: int):
    order = _order_in_scope(request, pk)
    return _detail(request, order)


def _detail(request, order, ship_form=None):
    return render(
        request,
        "pickup/orders/detail.html",
        {
            "order": order,
            "phone": mask_phone(order.consumer_phone, request.user),
            "ship_form": ship_form or forms.ShipForm(),
            "can_manage": has_perm(request.user, MANAGE),
            "claim": getattr(order.code, "red_packet_claim", None)
            if hasattr(order.code, "red_packet_claim")
            else None,
        },
    )


@permission_required(MANAGE)
@require_POST
def order_action(request, pk: int, action: str):
    order = _order_in_scope(request, pk, for_action=True)
    try:
        if action == "ship":
            form = forms.ShipForm(request.POST)
            if not form.is_valid():
                return _detail(request, order, ship_form=form)
            services.ship_order(
                actor=request.user,
                order=order,
                courier=form.cleaned_data["courier"],
                tracking_no=form.cleaned_data["tracking_no"],
            )
            messages.success(request, _("Order %(no)s shipped.") % {"no": order.order_no})
        elif action == "complete":
            services.complete_order(actor=request.user, order=order)
            messages.success(request, _("Order %(no)s completed.") % {"no": order.order_no})
        elif action == "cancel":
            services.cancel_order(
                actor=request.user, order=order, reason=request.POST.get("reason", "")[:200]
            )
            messages.success(
                request,
                _("Order %(no)s cancelled; its pickup code can be used again.")
                % {"no": order.order_no},
            )
        elif action == "delete":
            services.delete_orders(
                actor=request.user, orders=PickupOrder.objects.filter(pk=order.pk)
            )
            messages.success(request, _("Moved to the recycle bin."))
            return redirect(
                "pickup:online_orders" if order.kind == ONLINE else "pickup:store_orders"
            )
        else:
            raise Http404
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect("pickup:order_detail", pk=order.pk)


@permission_required(MANAGE)
@require_POST
def orders_batch(request, kind: str):
    """Batch actions of a list: delete the ticked orders, or export the filtered list."""
    if kind not in (ONLINE, STORE):
        raise Http404
    default = reverse("pickup:online_orders" if kind == ONLINE else "pickup:store_orders")
    if request.POST.get("action") == "export":
        query = {k: v for k, v in request.GET.items() if k != "page" and v}
        try:
            job = services.start_order_export(actor=request.user, kind=kind, query=query)
        except Refused as exc:
            messages.error(request, str(exc))
            return redirect_back(request, default)
        messages.success(
            request, _("The export is running; the file will be in the download centre.")
        )
        return redirect("core:job_detail", pk=job.pk)
    ids = selected_ids(request)
    if not ids:
        messages.error(request, _("Tick the orders first."))
        return redirect_back(request, default)
    count = services.delete_orders(
        actor=request.user, orders=PickupOrder.objects.filter(pk__in=ids, kind=kind)
    )
    messages.success(request, _("%(n)s orders moved to the recycle bin.") % {"n": count})
    return redirect_back(request, default)


# ---------------------------------------------------------------------------
# 门店订单
# ---------------------------------------------------------------------------


def _store_scope(user) -> Q:
    """Store orders the user may see: pickup.view anywhere in scope, or the stores where the
    user verifies store orders. 403 with neither."""
    perms = [p for p in (VIEW, VERIFY) if has_perm(user, p)]
    if not perms:
        raise PermissionDenied
    q = Q(pk__in=[])
    for perm in perms:
        q |= scope_q(user, perm, "store__store")
    return q


def store_orders(request):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    qs = selectors.orders_for_list(STORE).filter(_store_scope(request.user))
    filterset = filters.StoreOrderFilter(request.GET, queryset=qs)
    filterset.form.fields["store"].queryset = filterset.form.fields["store"].queryset.filter(
        pk__in=qs.values("store_id")
    )
    table = paginate(
        request,
        tables.StoreOrderTable(
            filterset.qs, user=request.user, detail_url="pickup:store_order_detail"
        ),
    )
    return render(
        request,
        "pickup/orders/store_list.html",
        {
            "filter": filterset,
            "table": table,
            "verify_form": forms.VerifyForm(),
            "can_verify": has_perm(request.user, VERIFY) or has_perm(request.user, MANAGE),
            "can_manage": has_perm(request.user, MANAGE),
        },
    )


def store_order_detail(request, pk: int):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    qs = selectors.orders_for_list(STORE).filter(_store_scope(request.user))
    order = get_object_or_404(qs, pk=pk)
    return render(
        request,
        "pickup/orders/detail.html",
        {
            "order": order,
            "phone": mask_phone(order.consumer_phone, request.user),
            "can_manage": has_perm(request.user, MANAGE),
            "can_verify": _may_verify(request.user, order),
        },
    )


def _may_verify(user, order) -> bool:
    org = order.store.store
    return has_perm(user, VERIFY, org) or has_perm(user, MANAGE, org)


@require_POST
def store_order_verify(request):
    """核销 by order number + phone, within the user's stores."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    if not (has_perm(request.user, VERIFY) or has_perm(request.user, MANAGE)):
        raise PermissionDenied
    form = forms.VerifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the order number and the phone number."))
        return redirect("pickup:store_orders")
    scope = Q(pk__in=[])
    for perm in (VERIFY, MANAGE):
        if has_perm(request.user, perm):
            scope |= scope_q(request.user, perm, "store__store")
    order_no = form.cleaned_data["order_no"].strip().upper()
    order = selectors.orders_for_list(STORE).filter(scope, order_no=order_no).first()
    if order is None:
        messages.error(request, _("No store order %(no)s at your stores.") % {"no": order_no})
        return redirect("pickup:store_orders")
    try:
        services.verify_store_order(
            actor=request.user, order=order, phone=form.cleaned_data["phone"]
        )
    except Refused as exc:
        # back to the verify box, not to the order: a wrong phone must not open the order page
        # that shows whose it is
        messages.error(request, str(exc))
        return redirect("pickup:store_orders")
    else:
        messages.success(
            request, _("Order %(no)s verified: the goods were picked up.") % {"no": order.order_no}
        )
    return redirect("pickup:store_order_detail", pk=order.pk)


# ---------------------------------------------------------------------------
# 回收站
# ---------------------------------------------------------------------------


@permission_required(MANAGE)
def recycle_bin(request):
    qs = selectors.orders_for_list(deleted=True)
    if request.method == "POST":
        ids = selected_ids(request)
        chosen = qs.filter(pk__in=ids)
        if not ids:
            messages.error(request, _("Tick the orders first."))
        elif request.POST.get("action") == "restore":
            n = services.restore_orders(actor=request.user, orders=chosen)
            messages.success(request, _("%(n)s orders restored.") % {"n": n})
        elif request.POST.get("action") == "purge":
            n = services.purge_orders(actor=request.user, orders=chosen)
            messages.success(request, _("%(n)s orders deleted for good.") % {"n": n})
        return redirect("pickup:recycle_bin")
    filterset = filters.OrderFilter(request.GET, queryset=qs.order_by("-deleted_at"))
    table = paginate(request, tables.RecycleTable(filterset.qs, user=request.user))
    return render(request, "pickup/orders/recycle.html", {"filter": filterset, "table": table})
