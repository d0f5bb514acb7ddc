"""What the redemption services share."""


def client_label(api_client) -> str:
    """The audit actor of a write made by an API client rather than a clerk."""
    return f"接口：{api_client.name}" if api_client else "系统"


def order_discount_key(*, order=None, api_client=None, order_no: str = "") -> tuple[str, str]:
    """The order as `couponhub.core.order_discounts` names it: (caller's public id, order number).
    A stored order came from the POS client of its source (``api:<client id>``); an order the
    till named by number only belongs to that till's client. ("", "") when no order is known."""
    if order is not None:
        return order.source.removeprefix("api:"), order.order_no
    if api_client is not None and order_no:
        return api_client.client_id, order_no
    return "", ""
