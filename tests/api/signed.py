"""A signing test client, written from SPEC.md §10."""

import json
import time
import uuid

from couponhub.core.signing import sign
from tests.api.factories import SECRET


class SignedClient:
    """Signs as an API client (X-Client-Id), or as a partner shop with `shop=`."""

    def __init__(self, client, api_client=None, secret: str = SECRET, *, shop=None):
        self.client = client
        self.api_client = api_client
        self.secret = shop.secret if shop else secret
        self.signer_header, self.signer = (
            ("HTTP_X_SHOP_ID", shop.shop_id) if shop else ("HTTP_X_CLIENT_ID", api_client.client_id)
        )

    def request(
        self,
        method: str,
        path: str,
        data=None,
        *,
        idempotency_key: str | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
        secret: str | None = None,
        signature: str | None = None,
    ):
        if isinstance(data, bytes):
            body = data
        else:
            body = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or uuid.uuid4().hex
        headers = {
            self.signer_header: self.signer,
            "HTTP_X_TIMESTAMP": ts,
            "HTTP_X_NONCE": nonce,
            "HTTP_X_SIGNATURE": signature
            or sign(secret or self.secret, method, path, ts, nonce, body),
        }
        if idempotency_key:
            headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
        return self.client.generic(
            method, path, data=body, content_type="application/json", **headers
        )

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, data=None, **kw):
        return self.request("POST", path, data, **kw)
