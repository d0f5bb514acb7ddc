"""A property-based run of the OpenAPI document: schemathesis generates requests for every
operation, we sign them as a POS would, and no answer may be a server error."""

import json
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core import NOT_SET

from api.main import api
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient

schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1")))
)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_causes_a_server_error(case, client):
    pos = SignedClient(client, ApiClientFactory())
    path = case.formatted_path
    if case.query not in (None, NOT_SET) and case.query:
        path += "?" + urlencode(case.query, doseq=True)
    body = None if case.body is NOT_SET else case.body
    response = pos.request(case.method.upper(), path, body, idempotency_key=None)
    assert response.status_code < 500, (case.method, path, body, response.content[:500])
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}
        assert {"code", "message"} <= set(response.json()["error"])
