import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from couponhub.core.audit import record_audit
from couponhub.core.models import AuditEntry
from tests.factories import OrgFactory, Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


def test_an_entry_records_actor_action_object_and_changes():
    store = StoreFactory()
    admin = user_with_role(Role.ADMIN, store.parent.parent)
    entry = record_audit(
        actor=admin, action="org.rename", obj=store, before={"name": "旧"}, after={"name": "新"}
    )
    entry.refresh_from_db()
    assert (entry.actor, entry.actor_name, entry.action) == (admin, admin.username, "org.rename")
    assert (entry.object_type, entry.object_id) == ("core.org", str(store.pk))
    assert entry.before == {"name": "旧"} and entry.after == {"name": "新"}


def test_the_orm_refuses_to_change_or_delete_entries():
    entry = record_audit(actor=None, action="x.y")
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.parametrize(
    "sql", ["UPDATE core_auditentry SET action = 'tampered'", "DELETE FROM core_auditentry"]
)
def test_postgres_refuses_update_and_delete_on_the_audit_table(sql):
    record_audit(actor=None, action="x.y")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEntry.objects.get().action == "x.y"


def test_the_audit_page_filters_entries_for_admins(client):
    admin = user_with_role(Role.ADMIN, OrgFactory())
    record_audit(actor=admin, action="coupons.rule_approve", object_repr="满300减30")
    record_audit(actor=admin, action="pickup.pickupcode.batch_delete", object_repr="批次7")
    client.force_login(admin)
    response = client.get(reverse("core:audit_log"), {"action": "coupons.rule_approve"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "满300减30" in body and "批次7" not in body
    assert "审核券注册发行规则" in body and "coupons.rule_approve</td>" not in body


def test_the_audit_page_names_actions_and_object_types_in_chinese(client):
    admin = user_with_role(Role.ADMIN, OrgFactory())
    order = OrgFactory()
    record_audit(actor=admin, action="pickup.order.create", obj=order)
    client.force_login(admin)
    body = client.get(reverse("core:audit_log")).content.decode()
    assert "新建提货订单" in body and "组织" in body
    assert "pickup.order.create" not in body.split("<table", 1)[1]
    assert "core.org" not in body.split("<table", 1)[1]
    # the filters offer the Chinese names, with 全部 first
    assert '<option value="pickup.order.create">新建提货订单</option>' in body
    assert '<option value="pickup.pickuporder">提货订单</option>' in body
    assert '<option value="" selected>全部</option>' in body


def test_the_audit_filters_match_the_chosen_action_and_object_type_and_local_days(client):
    import datetime

    from django.utils import timezone

    admin = user_with_role(Role.ADMIN, OrgFactory())
    store = StoreFactory()
    # 00:30 and 23:30 of one day in Shanghai (the UTC dates differ from the local ones)
    day = datetime.date(2026, 3, 8)
    for action, object_type, repr_, hour, minute in (
        ("coupons.claim", "", "甲", 0, 30),
        ("coupons.gift", store._meta.label_lower, "乙", 23, 30),
        ("members.update", "", "丙", 12, 0),
    ):
        local = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
        AuditEntry.objects.create(
            action=action, object_type=object_type, object_repr=repr_, created_at=local
        )
    client.force_login(admin)

    def shown(**query):
        table = client.get(reverse("core:audit_log"), query).context["table"]
        return sorted(row.record.object_repr for row in table.page.object_list)

    # chosen by their Chinese names, matched exactly on the identifier (the index's own value)
    assert shown(action="coupons.gift") == ["乙"]
    assert shown(object_type=store._meta.label_lower) == ["乙"]
    assert shown(created_from=day.isoformat(), created_to=day.isoformat()) == ["丙", "乙", "甲"]
    after = (day + datetime.timedelta(days=1)).isoformat()
    before = (day - datetime.timedelta(days=1)).isoformat()
    assert shown(created_from=after) == [] and shown(created_to=before) == []


def test_the_audit_page_is_forbidden_to_other_roles(client):
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    assert client.get(reverse("core:audit_log")).status_code == 403
