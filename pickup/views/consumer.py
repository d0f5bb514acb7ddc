"""The consumer's pages (public, phone-sized): code + password → card → order → status.

Session keys: SESSION_CODE holds the serial of the code whose password was right (for
CODE_TTL); SESSION_ORDERS the order numbers this browser placed or looked up — the only orders
it may see."""

import ipaddress
import time

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.money import format_yuan
from pickup import forms, selectors, services
from pickup.models import PickupCode, PickupSettings, RedPacketClaim, RedPacketSettings

SESSION_CODE = "pickup_code"
SESSION_ORDERS = "pickup_orders"
CODE_TTL = 30 * 60


def client_ip(request) -> str:
    """The consumer's address for the guessing limits. Behind the proxy named by
    PICKUP_CLIENT_IP_HEADER it is the header's last entry, the one the proxy itself added (what
    comes before is whatever the client sent, so it could pick a new address per try); anything
    that is not an address falls back to the connecting one."""
    header = getattr(settings, "PICKUP_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    for candidate in (value.split(",")[-1].strip(), request.META.get("REMOTE_ADDR", "")):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return "0.0.0.0"


def _render(request, template, context=None, status=200):
    context = {"settings_obj": PickupSettings.load(), **(context or {})}
    return render(request, f"pickup/consumer/{template}", context, status=status)


def consumer_start(request, code: str = ""):
    """Enter code + password; the QR link opens this page with the code filled in."""
    form = forms.ConsumerCodeForm(request.POST or None, initial={"code": code.upper()})
    problem = None
    if request.method == "POST" and form.is_valid():
        result = services.check_code_password(
            code=form.cleaned_data["code"],
            password=form.cleaned_data["password"],
            client_ip=client_ip(request),
        )
        if result.ok:
            if request.session.session_key:  # a fresh session needs no new key
                request.session.cycle_key()
            request.session[SESSION_CODE] = {"serial": result.code.serial, "at": time.time()}
            return redirect("pickup:consumer_card")
        problem = result.message
    return _render(request, "start.html", {"form": form, "problem": problem})


def _verified_code(request) -> PickupCode | None:
    data = request.session.get(SESSION_CODE)
    if not data or time.time() - data.get("at", 0) > CODE_TTL:
        return None
    return PickupCode.objects.select_related("card_type").filter(serial=data["serial"]).first()


def _remember_order(request, order_no: str) -> None:
    orders = [o for o in request.session.get(SESSION_ORDERS, []) if o != order_no]
    request.session[SESSION_ORDERS] = [order_no, *orders][:20]


def consumer_card(request):
    """The card type, its products and notes; choose and say how to receive them."""
    code = _verified_code(request)
    if code is None:
        messages.info(request, "请先输入提货码和密码")
        return redirect("pickup:consumer_start")
    problem = services.code_problem(code)
    if problem:
        request.session.pop(SESSION_CODE, None)
        return _render(
            request, "start.html", {"form": forms.ConsumerCodeForm(), "problem": problem[1]}
        )
    card_type = code.card_type
    stores = services.allowed_stores(card_type)
    form = forms.ConsumerOrderForm(request.POST or None, card_type=card_type, stores=stores)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        delivery = services.Delivery(
            kind=d["kind"],
            name=d["name"],
            phone=d["phone"],
            province=d.get("province") or "",
            city=d.get("city") or "",
            district=d.get("district") or "",
            address=d.get("address") or "",
            store=d.get("store"),
            pickup_date=d.get("pickup_date"),
        )
        try:
            order = services.place_order(
                serial=code.serial,
                product_ids=d.get("products") or [],
                delivery=delivery,
                client_ip=client_ip(request),
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            request.session.pop(SESSION_CODE, None)
            _remember_order(request, order.order_no)
            return redirect("pickup:consumer_order", order_no=order.order_no)
    return _render(
        request,
        "card.html",
        {
            "code": code,
            "card_type": card_type,
            "items": card_type.items.select_related("product"),
            "form": form,
            "stores": stores,
        },
    )


def _own_order(request, order_no: str):
    if order_no not in request.session.get(SESSION_ORDERS, []):
        return None
    return selectors.orders_for_list().filter(order_no=order_no).first()


def consumer_order(request, order_no: str):
    """The order's status page: only for the browser that placed or looked it up."""
    order = _own_order(request, order_no)
    if order is None:
        return redirect("pickup:consumer_lookup")
    claim = RedPacketClaim.objects.filter(code_id=order.code_id).first()
    can_claim = (
        order.code.red_packet_amount > 0
        and claim is None
        and order.status != order.Status.CANCELLED
        and RedPacketSettings.load().enabled
    )
    return _render(
        request,
        "order.html",
        {"order": order, "claim": claim, "can_claim": can_claim},
    )


def consumer_lookup(request):
    form = forms.ConsumerLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.find_consumer_order(
                order_no=form.cleaned_data["order_no"],
                phone=form.cleaned_data["phone"],
                client_ip=client_ip(request),
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            _remember_order(request, order.order_no)
            return redirect("pickup:consumer_order", order_no=order.order_no)
    return _render(request, "lookup.html", {"form": form})


@require_POST
def consumer_claim(request, order_no: str):
    order = _own_order(request, order_no)
    if order is None:
        raise Http404
    try:
        claim = services.claim_red_packet(
            order=order,
            client_ip=client_ip(request),
            location=request.POST.get("location", "").replace("\x00", "")[:120],
        )
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"领取成功：{format_yuan(claim.amount)}，将发放到您的账户")
    return redirect("pickup:consumer_order", order_no=order.order_no)
