import pytest
from django.urls import reverse

from couponhub.core.models import RoleAssignment
from tests.factories import RegionFactory, StoreFactory, user_with_role
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role


@pytest.fixture
def store():
    return StoreFactory(parent=RegionFactory())


@pytest.fixture
def member():
    return MemberFactory(phone="17700000516")


def test_member_list_for_operator_masks_phone(client, store, member):
    client.force_login(user_with_role(Role.OPERATOR, store.parent))
    html = client.get(reverse("members:list")).content.decode()
    assert "177****0516" in html
    client.force_login(user_with_role(Role.CLERK, store))
    assert client.get(reverse("members:list")).status_code == 403
