import pytest

from couponhub.core.models import AuditEntry, Org
from tests.factories import OrgFactory, Role, user_with_role

pytestmark = pytest.mark.django_db


def test_an_org_added_in_the_admin_gets_its_path_and_an_audit_entry(client):
    group = OrgFactory()
    admin = user_with_role(Role.ADMIN, group, is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/django-admin/core/org/add/",
        {"kind": "store", "name": "新开门店", "code": "901", "parent": group.pk, "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    store = Org.objects.get(code="901")
    assert store.path == f"{group.path}{store.pk}/"
    entry = AuditEntry.objects.get(action="admin.add")
    assert entry.object_id == str(store.pk) and entry.after["name"] == "新开门店"
