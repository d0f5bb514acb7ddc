import pytest
from django.urls import reverse

from api.models import ApiClient
from couponhub.core.models import AuditEntry
from tests.api.factories import ApiClientFactory
from tests.factories import RegionFactory, Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_client_and_sees_its_secret_once(client):
    store = StoreFactory(code="380")
    client.force_login(user_with_role(Role.ADMIN, store.parent))
    response = client.post(
        reverse("api:clients"), {"name": "海典POS", "store": store.pk, "auto_return": "on"}
    )
    assert response.status_code == 200
    api_client = ApiClient.objects.get(name="海典POS")
    assert api_client.secret in response.content.decode()
    assert api_client.auto_return
    assert AuditEntry.objects.filter(action="api.client_create").exists()
    assert api_client.secret not in client.get(reverse("api:clients")).content.decode()


def test_clients_of_stores_outside_the_admins_region_are_out_of_reach(client):
    region, other_region = RegionFactory(), RegionFactory()
    outside = ApiClientFactory(store=StoreFactory(parent=other_region))
    client.force_login(user_with_role(Role.ADMIN, region))
    assert outside.client_id not in client.get(reverse("api:clients")).content.decode()
    response = client.post(reverse("api:clients"), {"toggle": outside.pk})
    assert response.status_code == 404
    outside.refresh_from_db()
    assert outside.is_active


def test_an_admin_deactivates_a_client(client):
    api_client = ApiClientFactory()
    client.force_login(user_with_role(Role.ADMIN, api_client.store.parent))
    client.post(reverse("api:clients"), {"toggle": api_client.pk})
    api_client.refresh_from_db()
    assert not api_client.is_active


def test_clerks_may_not_manage_clients(client):
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    assert client.get(reverse("api:clients")).status_code == 403
