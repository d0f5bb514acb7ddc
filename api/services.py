import secrets

from django.db import transaction

from api.models import ApiClient
from couponhub.core.audit import record_audit
from couponhub.core.models import Org


def create_api_client(
    *, actor, name: str, store: Org, auto_return: bool = False
) -> tuple[ApiClient, str]:
    """Returns the client and its secret; the secret is shown this once and stored encrypted."""
    if not store.is_store:
        raise ValueError("API 客户端必须绑定到门店")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ApiClient.objects.create(
            name=name,
            client_id=f"ck_{secrets.token_hex(8)}",
            secret=secret,
            store=store,
            auto_return=auto_return,
        )
        record_audit(
            actor=actor,
            action="api.client_create",
            obj=client,
            org=store,
            after={"name": name, "client_id": client.client_id, "auto_return": auto_return},
        )
    return client, secret


def set_api_client_active(*, actor, client: ApiClient, active: bool) -> ApiClient:
    with transaction.atomic():
        before = client.is_active
        client.is_active = active
        client.save(update_fields=["is_active"])
        record_audit(
            actor=actor,
            action="api.client_activate" if active else "api.client_deactivate",
            obj=client,
            org=client.store,
            before={"is_active": before},
            after={"is_active": active},
        )
    return client
