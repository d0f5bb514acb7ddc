"""Home-page panels of gift-card pickup: store pickups waiting, orders to ship, the red-packet
balance."""

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from couponhub.core.panels import Panel, PanelData, Stat
from couponhub.core.permissions import scope_q
from pickup.models import PickupOrder, RedPacketAccount

RED_PACKET_LOW = Decimal("500")  # yuan


def _waiting(request) -> PanelData:
    waiting = PickupOrder.objects.filter(
        scope_q(request.user, "pickup.verify_store_order", "store__store"),
        kind=PickupOrder.Kind.STORE,
        status=PickupOrder.Status.PENDING,
        deleted_at__isnull=True,
    ).count()
    return PanelData(
        stats=[Stat(_("Store pickups waiting"), waiting, url=reverse("pickup:store_orders"))]
    )


def _operator(request) -> PanelData:
    to_ship = PickupOrder.objects.filter(
        kind=PickupOrder.Kind.ONLINE, status=PickupOrder.Status.PENDING, deleted_at__isnull=True
    ).count()
    balance = RedPacketAccount.load().balance
    return PanelData(
        stats=[
            Stat(_("Orders to ship"), to_ship, url=reverse("pickup:online_orders")),
            Stat(
                _("Red-packet balance"),
                f"¥{balance:,.2f}",
                url=reverse("pickup:red_packet_account"),
                warn=balance < RED_PACKET_LOW,
            ),
        ]
    )


PANELS = [
    Panel("pickup.waiting", _("Pickups waiting"), ("store_manager",), _waiting, 30),
    Panel("pickup.operator", _("Pickup orders and red packets"), ("operator",), _operator, 50),
]
