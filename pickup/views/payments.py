"""Top-ups paid online: start one from the SMS or red-packet account page, the order's page with
its QR code and state, and the provider's payment notice (public, verified by the backend)."""

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from couponhub.core.errors import Refused
from couponhub.core.permissions import permission_required
from pickup import selectors, services
from pickup.models import TopUpOrder
from pickup.payment_backends import get_backend
from pickup.views.common import MANAGE

NOTICE_MAX_BYTES = 64 * 1024  # a WeChat Pay notice is about 1 KB

ACCOUNT_PAGES = {
    TopUpOrder.Purpose.SMS: "pickup:sms",
    TopUpOrder.Purpose.RED_PACKETS: "pickup:red_packet_account",
}


def _notify_url(request) -> str:
    return getattr(settings, "PICKUP_PAYMENT_NOTIFY_URL", "") or request.build_absolute_uri(
        reverse("pickup:payment_notify")
    )


@permission_required(MANAGE)
@require_POST
def top_up(request, purpose: str):
    if purpose not in ACCOUNT_PAGES:
        raise Http404
    # the service checks the amount and refuses naming it; the note is free text
    try:
        order = services.start_top_up(
            actor=request.user,
            purpose=purpose,
            amount=request.POST.get("amount", ""),
            note=request.POST.get("note", "")[:200],
            notify_url=_notify_url(request),
        )
    except Refused as exc:
        messages.error(request, str(exc))
        return redirect(ACCOUNT_PAGES[purpose])
    return redirect("pickup:payment_detail", out_trade_no=order.out_trade_no)


@permission_required(MANAGE)
def payment_detail(request, out_trade_no: str):
    order = get_object_or_404(selectors.top_up_orders(), out_trade_no=out_trade_no)
    return render(
        request,
        "pickup/payments/detail.html",
        {
            "order": order,
            "account_url": reverse(ACCOUNT_PAGES[order.purpose]),
            "can_simulate": get_backend().can_simulate and order.status != TopUpOrder.Status.PAID,
        },
    )


@permission_required(MANAGE)
def payment_status(request, out_trade_no: str):
    order = get_object_or_404(TopUpOrder, out_trade_no=out_trade_no)
    return JsonResponse(
        {
            "status": order.status,
            "status_display": order.get_status_display(),
            "paid": order.status == TopUpOrder.Status.PAID,
        }
    )


@permission_required(MANAGE)
def payment_qr(request, out_trade_no: str):
    order = get_object_or_404(TopUpOrder, out_trade_no=out_trade_no)
    if not order.code_url or order.status == TopUpOrder.Status.PAID:
        raise Http404
    buffer = io.BytesIO()
    qrcode.make(order.code_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10).save(
        buffer
    )
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


@permission_required(MANAGE)
@require_POST
def payment_simulate(request, out_trade_no: str):
    order = get_object_or_404(TopUpOrder, out_trade_no=out_trade_no)
    try:
        services.simulate_payment(actor=request.user, order=order)
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect("pickup:payment_detail", out_trade_no=order.out_trade_no)


@csrf_exempt
@require_POST
def payment_notify(request):
    """The provider's payment notice. Answered 204 once handled (a repeat too, so the provider
    stops retrying); a notice that does not verify, or is bigger than any notice is, gets the
    error body WeChat Pay reads (not Django's HTML 400)."""
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > NOTICE_MAX_BYTES:
            raise RequestDataTooBig
        body = request.body
        if len(body) > NOTICE_MAX_BYTES:
            raise RequestDataTooBig
    except (RequestDataTooBig, ValueError):
        return _notice_refused(
            f"支付通知：内容超过{NOTICE_MAX_BYTES // 1024}KB，不是有效的通知", 413
        )
    try:
        services.handle_payment_notice(headers=dict(request.headers), body=body)
    except Refused as exc:
        return _notice_refused(exc.message, exc.status)
    return HttpResponse(status=204)


def _notice_refused(message: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"code": "FAIL", "message": message},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
