"""Gift-card pickup (SPEC §7), one module per sub-domain; every model is importable from here.

Orders and red-packet claims (the consumer side) build on PickupCode: its `status` goes from
unused to used exactly once (a conditional UPDATE), `shipped` / `picked_up` follow the order, and
`red_packet_amount` is what a red-packet allocation put on the code.
"""

from pickup.models.catalogue import (
    Brand,
    CardType,
    CardTypeItem,
    Category,
    Courier,
    PickupSettings,
    PickupStore,
    Product,
    SpecAttribute,
    SpecValue,
)
from pickup.models.codes import (
    CodeBatch,
    CodeFormat,
    ExportRecord,
    ImportRecord,
    PasswordAttempt,
    PickupCode,
)
from pickup.models.orders import (
    STORE_STATUS_LABELS,
    PickupOrder,
    PickupOrderItem,
    TrackingState,
)
from pickup.models.payments import TopUpOrder
from pickup.models.red_packets import (
    RedPacketAccount,
    RedPacketClaim,
    RedPacketEntry,
    RedPacketPayout,
    RedPacketSettings,
)

__all__ = [
    "STORE_STATUS_LABELS",
    "Brand",
    "CardType",
    "CardTypeItem",
    "Category",
    "CodeBatch",
    "CodeFormat",
    "Courier",
    "ExportRecord",
    "ImportRecord",
    "PasswordAttempt",
    "PickupCode",
    "PickupOrder",
    "PickupOrderItem",
    "PickupSettings",
    "PickupStore",
    "Product",
    "RedPacketAccount",
    "RedPacketClaim",
    "RedPacketEntry",
    "RedPacketPayout",
    "RedPacketSettings",
    "SpecAttribute",
    "SpecValue",
    "TopUpOrder",
    "TrackingState",
]
