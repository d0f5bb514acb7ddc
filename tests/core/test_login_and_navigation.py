import pytest
from django.urls import reverse

from couponhub.core.stores import SESSION_KEY
from tests.factories import OrgFactory, Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_a_staff_user_logs_in_and_out(client):
    user_with_role(Role.CLERK, StoreFactory(), username="lina_pan")
    assert _login(client, "lina_pan", "pw-123456").status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_five_failed_logins_lock_the_account_even_for_the_right_password(client):
    user_with_role(Role.CLERK, StoreFactory(), username="lina_pan")
    for _ in range(5):
        response = _login(client, "lina_pan", "wrong")
    assert "账户已锁定" in response.content.decode() or response.status_code == 429
    response = _login(client, "lina_pan", "pw-123456")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_menu_shows_only_what_the_role_may_use(client):
    store = StoreFactory()
    client.force_login(user_with_role(Role.CLERK, store))
    clerk_page = client.get(reverse("home")).content.decode()
    assert reverse("core:audit_log") not in clerk_page
    client.force_login(user_with_role(Role.ADMIN, store.parent.parent))
    admin_page = client.get(reverse("home")).content.decode()
    assert reverse("core:audit_log") in admin_page
    assert reverse("core:sms_account") in admin_page


def test_a_clerk_with_two_stores_switches_the_current_store(client):
    a, b = StoreFactory(name="甲店"), StoreFactory(name="乙店")
    clerk = user_with_role(Role.CLERK, a)
    clerk.role_assignments.create(role=Role.CLERK, org=b)
    client.force_login(clerk)
    response = client.post(reverse("core:switch_store"), {"store": b.pk, "next": "/"})
    assert response.status_code == 302 and client.session[SESSION_KEY] == b.pk
    assert "乙店-" in client.get(reverse("home")).content.decode()


def test_a_clerk_cannot_switch_to_a_store_outside_their_scope(client):
    a, other = StoreFactory(), StoreFactory()
    client.force_login(user_with_role(Role.CLERK, a))
    assert client.post(reverse("core:switch_store"), {"store": other.pk}).status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_home_page(client, role):
    org = StoreFactory() if role in {Role.CLERK, Role.STORE_MANAGER} else OrgFactory()
    client.force_login(user_with_role(role, org))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert str(Role(role).label) in response.content.decode()


def test_the_menu_is_worked_out_once_a_request_however_many_cells_render(client, monkeypatch):
    # given a list whose table renders template cells (each with the request's context)
    from couponhub.core import context_processors
    from couponhub.core.models import Job

    user = user_with_role(Role.OPERATOR, OrgFactory())
    for i in range(5):
        Job.objects.create(kind="members.import", title=f"任务{i}", owner=user)
    calls = []
    real = context_processors.menu_for
    monkeypatch.setattr(
        context_processors, "menu_for", lambda u, path="": calls.append(u) or real(u, path)
    )
    client.force_login(user)
    # when the page is shown
    response = client.get(reverse("core:downloads"))
    # then the menu is there, computed once
    assert response.status_code == 200 and "任务4" in response.content.decode()
    assert len(calls) == 1
