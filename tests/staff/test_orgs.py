import pytest
from django.urls import reverse

from couponhub.core.models import AuditEntry, Org
from couponhub.core.permissions import has_perm
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    group = OrgFactory(name="集团")
    retail = RegionFactory(parent=group, name="零售")
    food = RegionFactory(parent=group, name="餐饮")
    return {
        "group": group,
        "retail": retail,
        "food": food,
        "store": StoreFactory(parent=retail, name="蓝港店"),
        "food_store": StoreFactory(parent=food, name="望京店"),
    }


@pytest.fixture
def admin_client(client, tree):
    client.force_login(user_with_role(Role.ADMIN, tree["group"]))
    return client


def test_the_tree_lists_every_node(admin_client, tree):
    page = admin_client.get(reverse("staff:org_tree")).content.decode()
    for node in tree.values():
        assert node.name in page
    assert "关闭门店" in page


def test_a_store_is_added_renamed_and_closed(admin_client, tree):
    admin_client.post(
        reverse("staff:org_add"),
        {"kind": "store", "name": "新店", "code": "777", "parent": tree["retail"].pk},
    )
    store = Org.objects.get(code="777")
    assert store.path == f"{tree['retail'].path}{store.pk}/"
    admin_client.post(
        reverse("staff:org_edit", args=[store.pk]), {"name": "新店二", "address": "", "phone": ""}
    )
    store.refresh_from_db()
    assert store.name == "新店二"
    clerk = user_with_role(Role.CLERK, store)
    assert has_perm(clerk, "redemption.redeem")
    admin_client.post(reverse("staff:org_open_close", args=[store.pk, "close"]))
    store.refresh_from_db()
    assert not store.is_active
    clerk = type(clerk).objects.get(pk=clerk.pk)  # fresh: the role cache is per request
    assert not has_perm(clerk, "redemption.redeem")
    actions = set(
        AuditEntry.objects.filter(object_id=str(store.pk)).values_list("action", flat=True)
    )
    assert {"org.create", "org.update", "org.close"} <= actions


def test_a_region_moves_with_its_stores(admin_client, tree):
    sub = RegionFactory(parent=tree["retail"], name="华北")
    store = StoreFactory(parent=sub)
    admin_client.post(reverse("staff:org_move", args=[sub.pk]), {"parent": tree["food"].pk})
    sub.refresh_from_db()
    store.refresh_from_db()
    assert sub.parent == tree["food"] and store.path.startswith(tree["food"].path)
    entry = AuditEntry.objects.get(action="org.move")
    assert (
        entry.before["parent_id"] == tree["retail"].pk
        and entry.after["parent_id"] == tree["food"].pk
    )


def test_refusals_of_the_tree(admin_client, tree):
    response = admin_client.post(
        reverse("staff:org_add"),
        {"kind": "store", "name": "重复", "code": tree["store"].code, "parent": tree["retail"].pk},
    )
    assert "已被使用" in response.content.decode()
    # a node cannot go under itself (nor is it offered)
    response = admin_client.post(
        reverse("staff:org_move", args=[tree["retail"].pk]), {"parent": tree["retail"].pk}
    )
    assert response.status_code == 200 and not response.context["form"].is_valid()
    response = admin_client.post(
        reverse("staff:org_open_close", args=[tree["retail"].pk, "close"]), follow=True
    )
    assert "不是门店" in response.content.decode()


def test_403_and_404(client, tree):
    client.force_login(user_with_role(Role.OPERATOR, tree["group"]))
    assert client.get(reverse("staff:org_tree")).status_code == 403
    assert (
        client.post(reverse("staff:org_open_close", args=[tree["store"].pk, "close"])).status_code
        == 403
    )
    client.force_login(user_with_role(Role.ADMIN, tree["retail"]))
    page = client.get(reverse("staff:org_tree")).content.decode()
    assert "蓝港店" in page and "望京店" not in page
    assert client.get(reverse("staff:org_edit", args=[tree["food_store"].pk])).status_code == 404
    response = client.post(reverse("staff:org_open_close", args=[tree["food_store"].pk, "close"]))
    assert response.status_code == 404
    response = client.post(
        reverse("staff:org_move", args=[tree["store"].pk]), {"parent": tree["food"].pk}
    )
    assert response.status_code == 200 and not response.context["form"].is_valid()
    tree["store"].refresh_from_db()
    assert tree["store"].parent == tree["retail"]
