import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from couponhub.core.models import Org
from couponhub.core.permissions import (
    ROLE_PERMISSIONS,
    get_scoped_or_404,
    has_perm,
    mask_phone,
    scoped,
    stores_for,
)
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    group = OrgFactory()
    retail, food = RegionFactory(parent=group), RegionFactory(parent=group)
    return {
        "group": group,
        "retail": retail,
        "food": food,
        "a": StoreFactory(parent=retail),
        "b": StoreFactory(parent=retail),
        "c": StoreFactory(parent=food),
    }


def test_a_clerk_may_redeem_only_in_own_store(tree):
    clerk = user_with_role(Role.CLERK, tree["a"])
    assert has_perm(clerk, "redemption.redeem", tree["a"])
    assert not has_perm(clerk, "redemption.redeem", tree["b"])
    assert not has_perm(clerk, "coupons.approve_rules")


def test_a_role_on_a_region_covers_its_stores_only(tree):
    manager = user_with_role(Role.STORE_MANAGER, tree["retail"])
    assert list(stores_for(manager, "members.lookup").order_by("pk")) == [tree["a"], tree["b"]]


def test_scoped_object_lookup_gives_404_outside_and_403_without_permission(tree):
    clerk = user_with_role(Role.CLERK, tree["a"])
    stores = Org.objects.all()
    assert get_scoped_or_404(clerk, "members.lookup", stores, "", pk=tree["a"].pk) == tree["a"]
    with pytest.raises(Http404):
        get_scoped_or_404(clerk, "members.lookup", stores, "", pk=tree["b"].pk)
    with pytest.raises(PermissionDenied):
        scoped(clerk, "coupons.edit_rules", stores, "")


def test_group_roles_see_everything_below(tree):
    hq = user_with_role(Role.HQ, tree["group"])
    assert set(scoped(hq, "reports.view", Org.objects.all(), "")) == set(tree.values())


def test_unknown_permissions_are_a_programming_error(tree):
    clerk = user_with_role(Role.CLERK, tree["a"])
    with pytest.raises(ValueError):
        has_perm(clerk, "redemption.redeeem")


def test_every_role_has_permissions():
    assert all(ROLE_PERMISSIONS[role] for role in Role.values)


def test_phones_are_masked_unless_the_user_may_see_them(tree):
    clerk = user_with_role(Role.CLERK, tree["a"])
    hq = user_with_role(Role.HQ, tree["group"])
    assert mask_phone("17712340516", clerk) == "177****0516"
    assert mask_phone("17712340516", hq) == "17712340516"


def test_moving_a_region_carries_its_stores_along(tree):
    other_region = RegionFactory(parent=tree["group"])
    clerk = user_with_role(Role.STORE_MANAGER, other_region)
    tree["retail"].parent = other_region
    tree["retail"].save()
    tree["a"].refresh_from_db()
    assert tree["a"].path.startswith(other_region.path)
    assert has_perm(clerk, "members.lookup", tree["a"])
