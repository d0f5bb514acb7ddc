import io

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from couponhub.core.models import AuditEntry, RoleAssignment, User
from couponhub.core.spreadsheets import write_xlsx
from tests.factories import (
    OrgFactory,
    RegionFactory,
    Role,
    StoreFactory,
    UserFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    group = OrgFactory(name="集团")
    region = RegionFactory(parent=group, name="零售")
    other_region = RegionFactory(parent=group, name="餐饮")
    return {
        "group": group,
        "region": region,
        "store": StoreFactory(parent=region, name="蓝港店"),
        "other_store": StoreFactory(parent=other_region, name="望京店"),
    }


@pytest.fixture
def admin(tree):
    return user_with_role(Role.ADMIN, tree["group"], username="boss")


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_an_admin_creates_a_clerk_who_must_change_the_temporary_password(client, admin, tree):
    client.force_login(admin)
    response = client.post(
        reverse("staff:user_create"),
        {
            "username": "lina_pan",
            "full_name": "潘丽娜",
            "phone": "13800000001",
            "role": Role.CLERK,
            "org": tree["store"].pk,
        },
    )
    assert response.status_code == 200
    password = response.context["password"]
    assert password in response.content.decode() and "临时密码" in response.content.decode()
    user = User.objects.get(username="lina_pan")
    assert user.must_change_password and user.first_name == "潘丽娜"
    assert list(user.role_assignments.values_list("role", "org")) == [
        (Role.CLERK, tree["store"].pk)
    ]
    entry = AuditEntry.objects.get(action="staff.create_user")
    assert entry.actor == admin and "password" not in entry.after
    assert AuditEntry.objects.filter(
        action="role.assign", object_repr__contains="lina_pan"
    ).exists()

    client.logout()
    assert _login(client, "lina_pan", password).status_code == 302
    # every page leads to the password change until the user has chosen their own
    assert client.get(reverse("home")).url == reverse("core:password_change")
    assert client.get(reverse("redemption:lookup")).url == reverse("core:password_change")
    response = client.post(
        reverse("core:password_change"),
        {
            "old_password": password,
            "new_password1": "Lanes-2026-x",
            "new_password2": "Lanes-2026-x",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Lanes-2026-x")
    assert client.get(reverse("home")).status_code == 200
    assert AuditEntry.objects.filter(action="user.change_password", actor=user).exists()


def test_a_taken_username_and_a_clerk_on_a_region_are_refused_in_chinese(client, admin, tree):
    client.force_login(admin)
    UserFactory(username="taken")
    response = client.post(
        reverse("staff:user_create"),
        {"username": "taken", "full_name": "甲", "role": Role.CLERK, "org": tree["store"].pk},
    )
    assert "用户名“taken”已被使用" in response.content.decode()
    response = client.post(
        reverse("staff:user_create"),
        {"username": "newbie", "full_name": "乙", "role": Role.CLERK, "org": tree["region"].pk},
    )
    assert "不是门店" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_deactivate_reset_and_unlock(client, admin, tree):
    clerk = user_with_role(Role.CLERK, tree["store"], username="clerk_a")
    client.force_login(admin)
    url = lambda action: reverse("staff:user_action", args=[clerk.pk, action])  # noqa: E731

    client.post(url("deactivate"))
    clerk.refresh_from_db()
    assert not clerk.is_active
    assert AuditEntry.objects.filter(
        action="staff.deactivate_user", object_id=str(clerk.pk)
    ).exists()
    response = client.post(url("reset-password"), follow=True)
    assert "已停用" in response.content.decode()
    client.post(url("activate"))

    AccessAttempt.objects.create(
        username="clerk_a",
        ip_address="10.0.0.1",
        user_agent="test",
        failures_since_start=5,
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/login/",
    )
    page = client.get(reverse("staff:users"), {"status": "locked"}).content.decode()
    assert "clerk_a" in page and "已锁定" in page
    client.post(url("unlock"))
    assert not AccessAttempt.objects.filter(username="clerk_a").exists()
    assert AuditEntry.objects.get(action="staff.unlock_user").before == {"failures": 5}

    response = client.post(url("reset-password"))
    password = response.context["password"]
    clerk.refresh_from_db()
    assert clerk.check_password(password) and clerk.must_change_password
    entry = AuditEntry.objects.get(action="staff.reset_password")
    assert password not in str(entry.after) and password not in str(entry.before)


def test_an_admin_cannot_deactivate_themselves(client, admin):
    client.force_login(admin)
    response = client.post(reverse("staff:user_action", args=[admin.pk, "deactivate"]), follow=True)
    assert "不能停用自己的账户" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_roles_are_given_and_taken_away_with_audit(client, admin, tree):
    user = user_with_role(Role.CLERK, tree["store"])
    client.force_login(admin)
    client.post(
        reverse("staff:role_grant", args=[user.pk]),
        {"role": Role.STORE_MANAGER, "org": tree["store"].pk},
    )
    manager = user.role_assignments.get(role=Role.STORE_MANAGER)
    response = client.post(
        reverse("staff:role_grant", args=[user.pk]),
        {"role": Role.STORE_MANAGER, "org": tree["store"].pk},
    )
    assert response.status_code == 400 and "已经是" in response.content.decode()
    client.post(reverse("staff:role_revoke", args=[user.pk, manager.pk]))
    assert not user.role_assignments.filter(role=Role.STORE_MANAGER).exists()
    assert AuditEntry.objects.filter(action="role.revoke", object_id=str(manager.pk)).exists()


def test_without_the_permission_403(client, tree):
    clerk = user_with_role(Role.CLERK, tree["store"])
    client.force_login(clerk)
    for url in [
        reverse("staff:users"),
        reverse("staff:user_create"),
        reverse("staff:user_import"),
        reverse("staff:user_detail", args=[clerk.pk]),
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("staff:user_action", args=[clerk.pk, "unlock"])).status_code == 403


def test_a_regional_admin_sees_only_their_staff_and_gets_404_outside(client, tree):
    regional = user_with_role(Role.ADMIN, tree["region"])
    mine = user_with_role(Role.CLERK, tree["store"], username="mine")
    theirs = user_with_role(Role.CLERK, tree["other_store"], username="theirs")
    both = user_with_role(Role.CLERK, tree["store"], username="both")
    both.role_assignments.create(role=Role.CLERK, org=tree["other_store"])
    UserFactory(username="nobody")
    client.force_login(regional)
    page = client.get(reverse("staff:users")).content.decode()
    assert "mine" in page and "theirs" not in page and "both" not in page and "nobody" not in page
    for user in [theirs, both]:
        assert client.get(reverse("staff:user_detail", args=[user.pk])).status_code == 404
        response = client.post(reverse("staff:user_action", args=[user.pk, "deactivate"]))
        assert response.status_code == 404
    assert client.get(reverse("staff:user_detail", args=[mine.pk])).status_code == 200
    # a role on a store outside the scope cannot be given: it is not among the choices
    response = client.post(
        reverse("staff:role_grant", args=[mine.pk]),
        {"role": Role.CLERK, "org": tree["other_store"].pk},
    )
    assert response.status_code == 400
    assert not mine.role_assignments.filter(org=tree["other_store"]).exists()


def _xlsx(rows):
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=["用户名", "姓名", "手机号", "角色", "组织编码"], rows=rows)
    buffer.seek(0)
    buffer.name = "staff.xlsx"
    return buffer


def test_the_staff_import_names_every_bad_row_and_imports_nothing(client, admin, tree):
    UserFactory(username="taken")
    client.force_login(admin)
    store = tree["store"].code
    response = client.post(
        reverse("staff:user_import"),
        {
            "file": _xlsx(
                [
                    ["ok_one", "甲", "13800000001", "店员", store],
                    ["taken", "乙", "", "店员", store],
                    ["ok_two", "丙", "123", "店长", store],
                    ["ok_three", "丁", "", "厨师", store],
                    ["ok_four", "戊", "", "店员", "NOPE"],
                    ["ok_one", "己", "", "店员", store],
                ]
            )
        },
    )
    page = response.content.decode()
    for expected in [
        "第3行：用户名“taken”已被使用",
        "第4行：手机号“123”",
        "第5行：角色“厨师”不存在",
        "第6行：组织编码“NOPE”",
        "第7行：用户名“ok_one”已在第2行",
    ]:
        assert expected in page, expected
    assert not User.objects.filter(username__startswith="ok_").exists()


def test_the_staff_import_creates_users_with_temporary_passwords(client, admin, tree):
    client.force_login(admin)
    response = client.post(
        reverse("staff:user_import"),
        {
            "file": _xlsx(
                [
                    ["new_a", "甲", "13800000001", "店员", tree["store"].code],
                    ["new_b", "乙", "", "运营", tree["group"].code],
                ]
            )
        },
    )
    created = response.context["result"].created
    assert [u.username for u, _p in created] == ["new_a", "new_b"]
    for user, password in created:
        user.refresh_from_db()
        assert user.check_password(password) and user.must_change_password
    assert RoleAssignment.objects.get(user__username="new_b").role == Role.OPERATOR
    assert AuditEntry.objects.get(action="staff.import_users").after == {
        "users": ["new_a", "new_b"]
    }


def test_a_regional_admin_cannot_import_staff_into_another_region(client, tree):
    client.force_login(user_with_role(Role.ADMIN, tree["region"]))
    response = client.post(
        reverse("staff:user_import"),
        {"file": _xlsx([["x1", "甲", "", "店员", tree["other_store"].code]])},
    )
    assert "不是您管理的" in response.content.decode()
    assert not User.objects.filter(username="x1").exists()


def test_the_menu_leads_to_our_pages_and_not_to_django_admin(client, admin):
    client.force_login(admin)
    page = client.get(reverse("home")).content.decode()
    assert reverse("staff:users") in page and reverse("staff:org_tree") in page
    assert "/django-admin/" not in page
    assert client.get("/django-admin/").status_code == 302  # not staff: the admin's login
