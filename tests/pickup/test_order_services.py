"""Placing, shipping, completing, cancelling, verifying and recycling pickup orders."""

import datetime as dt

import pytest
from django.utils import timezone

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry, RoleAssignment, SmsMessage
from couponhub.core.sms import top_up_sms_account
from pickup import services
from pickup.models import CardType, PickupCode, PickupOrder, PickupSettings
from tests.factories import OrgFactory, user_with_role
from tests.pickup.factories import (
    CardTypeFactory,
    CourierFactory,
    PickupCodeFactory,
    PickupOrderFactory,
    PickupStoreFactory,
    ProductFactory,
    StoreOrderFactory,
)

pytestmark = pytest.mark.django_db

SHIP = services.Delivery(
    kind="online",
    name="王小二",
    phone="13912345678",
    province="北京市",
    city="北京市",
    district="朝阳区",
    address="朝阳公园路6号",
)


def store_delivery(store, day=None):
    return services.Delivery(
        kind="store",
        name="李四",
        phone="13700001111",
        store=store,
        pickup_date=day or timezone.localdate(),
    )


def set_admin_phones(text: str) -> None:
    settings_obj = PickupSettings.load()
    settings_obj.admin_phones = text
    services.save_settings(actor=None, instance=settings_obj)


@pytest.fixture
def sms_admin():
    top_up_sms_account(actor=None, amount="10.00")
    set_admin_phones("13800000001")


def test_placing_an_online_order_uses_the_code_and_notifies_admins(
    sms_admin, django_capture_on_commit_callbacks, sms_outbox
):
    code = PickupCodeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = services.place_order(
            serial=code.serial, product_ids=[], delivery=SHIP, client_ip="10.0.0.1"
        )
    code.refresh_from_db()
    assert code.status == PickupCode.Status.USED and code.used_at is not None
    assert order.status == PickupOrder.Status.PENDING and order.order_no.startswith("P")
    assert [i.product_id for i in order.items.all()] == list(
        code.card_type.items.values_list("product_id", flat=True)
    )
    assert AuditEntry.objects.filter(action="pickup.order.create", object_id=str(order.pk))
    assert [m["phone"] for m in sms_outbox] == ["13800000001"]
    assert order.order_no in sms_outbox[0]["text"]


def test_new_orders_text_the_phones_of_the_settings_logged_and_charged(
    django_capture_on_commit_callbacks, sms_outbox
):
    # given two phones in the settings and an admin user whose own phone is not among them
    top_up_sms_account(actor=None, amount="1.00")
    set_admin_phones("13800000001，13800000002 13800000001")
    user_with_role(RoleAssignment.Role.ADMIN, OrgFactory(), phone="13800000009")
    assert PickupSettings.load().admin_phones == "13800000001,13800000002"
    # when a consumer places an online order
    code = PickupCodeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = services.place_order(
            serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None
        )
    # then each phone of the settings gets one text, logged and paid from the SMS account
    assert sorted(m["phone"] for m in sms_outbox) == ["13800000001", "13800000002"]
    logged = SmsMessage.objects.filter(purpose="pickup_new_online_order")
    assert {m.status for m in logged} == {SmsMessage.Status.SENT} and logged.count() == 2
    assert all(order.order_no in m.text and "请及时发货" in m.text for m in logged)
    assert sum(m.cost for m in logged) == 2 * SmsMessage.objects.first().cost > 0


def test_no_phones_in_the_settings_means_no_text(django_capture_on_commit_callbacks, sms_outbox):
    top_up_sms_account(actor=None, amount="1.00")
    user_with_role(RoleAssignment.Role.ADMIN, OrgFactory(), phone="13800000009")
    code = PickupCodeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.place_order(serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None)
    assert sms_outbox == [] and not SmsMessage.objects.exists()


def test_a_bad_phone_in_the_settings_is_refused_naming_it():
    with pytest.raises(Refused, match="管理员手机号：“1380000”不是11位手机号码"):
        set_admin_phones("13800000001, 1380000")
    assert PickupSettings.load().admin_phones == ""


def test_a_used_code_cannot_order_again():
    code = PickupCodeFactory()
    services.place_order(serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None)
    with pytest.raises(Refused, match="已使用"):
        services.place_order(serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None)
    assert PickupOrder.objects.count() == 1


def test_choice_card_needs_exactly_n_products_of_its_list():
    products = ProductFactory.create_batch(3)
    card = CardTypeFactory(
        selection=CardType.Selection.CHOOSE, choose_count=2, product_list=products
    )
    code = PickupCodeFactory(batch__card_type=card)
    other = ProductFactory()
    for wrong in ([products[0].pk], [products[0].pk, other.pk], [p.pk for p in products]):
        with pytest.raises(Refused, match="选择2件"):
            services.place_order(
                serial=code.serial, product_ids=wrong, delivery=SHIP, client_ip=None
            )
    order = services.place_order(
        serial=code.serial,
        product_ids=[products[0].pk, products[2].pk],
        delivery=SHIP,
        client_ip=None,
    )
    assert sorted(order.items.values_list("product_id", flat=True)) == [
        products[0].pk,
        products[2].pk,
    ]


def test_delivery_rules_name_the_field():
    card = CardTypeFactory(allow_ship=False)
    allowed, other = PickupStoreFactory(), PickupStoreFactory()
    card.stores.set([allowed])
    code = PickupCodeFactory(batch__card_type=card)
    with pytest.raises(Refused, match="不支持快递"):
        services.place_order(serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None)
    with pytest.raises(Refused, match="提货门店"):
        services.place_order(
            serial=code.serial, product_ids=[], delivery=store_delivery(other), client_ip=None
        )
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with pytest.raises(Refused, match="提货日期"):
        services.place_order(
            serial=code.serial,
            product_ids=[],
            delivery=store_delivery(allowed, yesterday),
            client_ip=None,
        )
    bad_phone = services.Delivery(
        **{
            **SHIP.__dict__,
            "kind": "store",
            "store": allowed,
            "pickup_date": timezone.localdate(),
            "phone": "123",
        }
    )
    with pytest.raises(Refused, match="手机号"):
        services.place_order(serial=code.serial, product_ids=[], delivery=bad_phone, client_ip=None)
    assert PickupCode.objects.get(pk=code.pk).status == PickupCode.Status.UNUSED
    order = services.place_order(
        serial=code.serial, product_ids=[], delivery=store_delivery(allowed), client_ip=None
    )
    assert order.kind == "store" and order.store == allowed and order.address == ""


def test_store_order_notifies_admins_and_the_store_manager(
    sms_admin, django_capture_on_commit_callbacks, sms_outbox
):
    store = PickupStoreFactory(manager_phone="13600000002")
    code = PickupCodeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.place_order(
            serial=code.serial, product_ids=[], delivery=store_delivery(store), client_ip=None
        )
    assert sorted(m["phone"] for m in sms_outbox) == ["13600000002", "13800000001"]


def test_an_empty_sms_balance_never_blocks_the_order(
    django_capture_on_commit_callbacks, sms_outbox
):
    set_admin_phones("13800000001")
    code = PickupCodeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = services.place_order(
            serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None
        )
    assert order.pk and sms_outbox == []
    refused = SmsMessage.objects.get(purpose="pickup_new_online_order")
    assert refused.status == SmsMessage.Status.REFUSED and refused.phone == "13800000001"


def test_ship_then_complete_and_the_consumer_gets_courier_and_tracking(
    operator, django_capture_on_commit_callbacks, sms_outbox
):
    top_up_sms_account(actor=None, amount="1.00")
    order = PickupOrderFactory(consumer_phone="13911112222")
    courier = CourierFactory(name="顺丰速运")
    with pytest.raises(Refused, match="快递单号"):
        services.ship_order(actor=operator, order=order, courier=courier, tracking_no="x")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.ship_order(
            actor=operator, order=order, courier=courier, tracking_no="sf1234567890"
        )
    assert order.status == "shipped" and order.tracking_no == "SF1234567890"
    assert PickupCode.objects.get(pk=order.code_id).shipped
    assert sms_outbox[-1]["phone"] == "13911112222"
    assert "顺丰速运" in sms_outbox[-1]["text"] and "SF1234567890" in sms_outbox[-1]["text"]
    with pytest.raises(Refused, match="不能发货"):
        services.ship_order(actor=operator, order=order, courier=courier, tracking_no="SF999999")
    order = services.complete_order(actor=operator, order=order)
    assert order.status == "completed" and order.completed_at


def test_auto_completion_n_days_after_shipping(operator):
    settings_obj = PickupSettings.load()
    settings_obj.auto_complete_days = 7
    settings_obj.save()
    now = timezone.now()
    old = PickupOrderFactory(status="shipped", shipped_at=now - dt.timedelta(days=7, minutes=1))
    recent = PickupOrderFactory(status="shipped", shipped_at=now - dt.timedelta(days=6))
    pending = PickupOrderFactory()
    from pickup.tasks import complete_shipped_orders_task

    assert complete_shipped_orders_task() == 1
    old.refresh_from_db(), recent.refresh_from_db(), pending.refresh_from_db()
    assert (old.status, recent.status, pending.status) == ("completed", "shipped", "pending")
    assert AuditEntry.objects.get(action="pickup.order.complete").note == "发货7天后自动完成"


def test_cancel_gives_the_code_back_and_it_can_be_used_again(operator):
    code = PickupCodeFactory()
    order = services.place_order(serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None)
    services.cancel_order(actor=operator, order=order, reason="用户要求")
    code.refresh_from_db()
    assert code.status == "unused" and code.used_at is None
    again = services.place_order(serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None)
    assert again.pk != order.pk
    shipped = PickupOrderFactory(status="shipped")
    with pytest.raises(Refused, match="不能取消"):
        services.cancel_order(actor=operator, order=shipped)


def test_verify_store_order_needs_its_phone(operator):
    order = StoreOrderFactory(consumer_phone="13700001111")
    with pytest.raises(Refused, match="手机号"):
        services.verify_store_order(actor=operator, order=order, phone="13700001112")
    order = services.verify_store_order(actor=operator, order=order, phone="13700001111")
    assert order.status == "completed" and order.handled_by == operator
    assert PickupCode.objects.get(pk=order.code_id).picked_up
    with pytest.raises(Refused, match="不能核销"):
        services.verify_store_order(actor=operator, order=order, phone="13700001111")


def test_recycle_bin_delete_restore_purge(operator):
    a, b = PickupOrderFactory(), PickupOrderFactory()
    qs = PickupOrder.objects.filter(pk__in=[a.pk, b.pk])
    assert services.delete_orders(actor=operator, orders=qs) == 2
    assert PickupOrder.objects.filter(deleted_at=None).count() == 0
    assert services.restore_orders(actor=operator, orders=qs.filter(pk=a.pk)) == 1
    # purge only takes orders in the bin
    assert services.purge_orders(actor=operator, orders=qs) == 1
    assert list(PickupOrder.objects.values_list("pk", flat=True)) == [a.pk]
    assert PickupCode.objects.get(pk=b.code_id).status == "used"
    assert AuditEntry.objects.filter(action="pickup.order.purge").count() == 1


def test_batch_delete_of_codes_skips_codes_that_had_an_order(operator):
    card = CardTypeFactory()
    fresh = PickupCodeFactory(batch__card_type=card)
    code = PickupCodeFactory(batch=fresh.batch)
    order = services.place_order(serial=code.serial, product_ids=[], delivery=SHIP, client_ip=None)
    services.cancel_order(actor=operator, order=order)  # code unused again, but not never-used
    counts = services.batch_modify_codes(
        actor=operator, selection={"batch": str(fresh.batch_id)}, action="delete"
    )
    assert counts == {"matched": 2, "changed": 1, "skipped_used": 1}
    assert list(PickupCode.objects.values_list("pk", flat=True)) == [code.pk]
