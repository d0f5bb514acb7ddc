"""What the redemption services share."""


def client_label(api_client) -> str:
    """The audit actor of a write made by an API client rather than a clerk."""
    return f"接口：{api_client.name}" if api_client else "系统"
