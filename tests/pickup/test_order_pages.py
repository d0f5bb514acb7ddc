"""Back-office order pages: lists, details, actions, store orders per store, recycle bin, export."""

import pytest
from django.urls import reverse

from couponhub.core.models import Job
from pickup.models import PickupOrder
from tests.factories import Role, StoreFactory, user_with_role
from tests.pickup.factories import (
    CourierFactory,
    PickupOrderFactory,
    PickupStoreFactory,
    StoreOrderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_setup(client):
    mine, other = PickupStoreFactory(), PickupStoreFactory()
    manager = user_with_role(Role.STORE_MANAGER, mine.store, username="mgr")
    client.force_login(manager)
    return client, mine, other


def test_online_tabs_and_filters(op_client):
    pending = PickupOrderFactory(consumer_name="甲")
    shipped = PickupOrderFactory(status="shipped", consumer_name="乙")
    page = op_client.get(reverse("pickup:online_orders")).content.decode()
    assert pending.order_no in page and shipped.order_no not in page
    assert "未发货" in page and "(1)" in page
    page = op_client.get(reverse("pickup:online_orders") + "?tab=shipped").content.decode()
    assert shipped.order_no in page and pending.order_no not in page
    page = op_client.get(
        reverse("pickup:online_orders") + f"?tab=pending&consumer_phone={pending.consumer_phone}"
    ).content.decode()
    assert pending.order_no in page


def test_an_empty_list_says_so(op_client):
    PickupOrderFactory()
    page = op_client.get(reverse("pickup:online_orders") + "?order_no=NOPE").content.decode()
    assert '<td colspan="10" class="empty">暂无数据</td>' in page or "暂无数据</td>" in page


def test_an_unknown_tab_opens_the_default_tab(op_client):
    pending = PickupOrderFactory(consumer_name="甲")
    response = op_client.get(reverse("pickup:online_orders") + "?tab=unshipped")
    assert response.status_code == 200
    assert pending.order_no in response.content.decode()


def test_order_pages_need_the_permission(client, clerk):
    order = PickupOrderFactory()
    client.force_login(clerk)
    assert client.get(reverse("pickup:online_orders")).status_code == 403
    assert client.get(reverse("pickup:order_detail", args=[order.pk])).status_code == 403
    assert client.get(reverse("pickup:recycle_bin")).status_code == 403
    assert client.get(reverse("pickup:store_orders")).status_code == 403
    url = reverse("pickup:order_action", args=[order.pk, "cancel"])
    assert client.post(url).status_code == 403


def test_hq_sees_but_cannot_act(client, hq):
    order = PickupOrderFactory()
    client.force_login(hq)
    assert client.get(reverse("pickup:order_detail", args=[order.pk])).status_code == 200
    url = reverse("pickup:order_action", args=[order.pk, "cancel"])
    assert client.post(url).status_code == 403


def test_ship_from_the_detail_page(op_client):
    order = PickupOrderFactory()
    courier = CourierFactory()
    url = reverse("pickup:order_action", args=[order.pk, "ship"])
    page = op_client.post(url, {"courier": courier.pk, "tracking_no": ""})
    assert page.status_code == 200 and "tracking_no" in page.context["ship_form"].errors
    op_client.post(url, {"courier": courier.pk, "tracking_no": "SF1234567890"})
    order.refresh_from_db()
    assert order.status == "shipped" and order.courier == courier
    op_client.post(reverse("pickup:order_action", args=[order.pk, "complete"]))
    order.refresh_from_db()
    assert order.status == "completed"


def test_cancel_and_delete_and_recycle_bin(op_client):
    order = PickupOrderFactory()
    op_client.post(reverse("pickup:order_action", args=[order.pk, "cancel"]))
    order.refresh_from_db()
    assert order.status == "cancelled" and order.code.status == "unused"
    a, b = PickupOrderFactory(), PickupOrderFactory()
    op_client.post(
        reverse("pickup:orders_batch", args=["online"]), {"action": "delete", "ids": [a.pk, b.pk]}
    )
    assert PickupOrder.objects.exclude(deleted_at=None).count() == 2
    assert op_client.get(reverse("pickup:order_detail", args=[a.pk])).status_code == 404
    bin_page = op_client.get(reverse("pickup:recycle_bin")).content.decode()
    assert a.order_no in bin_page and b.order_no in bin_page
    op_client.post(reverse("pickup:recycle_bin"), {"action": "restore", "ids": [a.pk]})
    op_client.post(reverse("pickup:recycle_bin"), {"action": "purge", "ids": [b.pk]})
    assert list(
        PickupOrder.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "deleted_at")
    ) == [(a.pk, None)]


def test_export_runs_as_a_job_with_an_xlsx(op_client, django_capture_on_commit_callbacks):
    PickupOrderFactory.create_batch(3)
    PickupOrderFactory(status="shipped")
    url = reverse("pickup:orders_batch", args=["online"]) + "?tab=pending"
    with django_capture_on_commit_callbacks(execute=True):
        response = op_client.post(url, {"action": "export"})
    job = Job.objects.get(kind="pickup.export_orders")
    assert response.url == reverse("core:job_detail", args=[job.pk])
    assert job.status == "succeeded" and job.result == {"行数": 3}
    from openpyxl import load_workbook

    with job.result_file.open("rb") as fh:
        rows = list(load_workbook(fh, read_only=True).active.iter_rows(values_only=True))
    assert rows[0][0] == "订单号" and len(rows) == 4 and all(r[1] == "未发货" for r in rows[1:])


def test_store_manager_sees_and_verifies_only_their_stores(manager_setup):
    client, mine, other = manager_setup
    here = StoreOrderFactory(store=mine, consumer_phone="13700001111")
    there = StoreOrderFactory(store=other)
    page = client.get(reverse("pickup:store_orders")).content.decode()
    assert here.order_no in page and there.order_no not in page
    assert client.get(reverse("pickup:store_order_detail", args=[here.pk])).status_code == 200
    assert client.get(reverse("pickup:store_order_detail", args=[there.pk])).status_code == 404
    assert client.get(reverse("pickup:order_detail", args=[there.pk])).status_code == 403
    verify = reverse("pickup:store_order_verify")
    response = client.post(verify, {"order_no": there.order_no, "phone": there.consumer_phone})
    there.refresh_from_db()
    assert there.status == "pending" and response.url == reverse("pickup:store_orders")
    client.post(verify, {"order_no": here.order_no, "phone": "13700009999"})
    here.refresh_from_db()
    assert here.status == "pending"
    client.post(verify, {"order_no": here.order_no.lower(), "phone": "13700001111"})
    here.refresh_from_db()
    assert here.status == "completed" and here.code.picked_up


def test_store_manager_of_another_store_gets_404_on_a_store_order(client):
    order = StoreOrderFactory()
    other_manager = user_with_role(Role.STORE_MANAGER, StoreFactory())
    client.force_login(other_manager)
    assert client.get(reverse("pickup:store_order_detail", args=[order.pk])).status_code == 404
    assert client.get(reverse("pickup:store_orders")).status_code == 200


def test_operator_sees_every_store_order_of_the_group(op_client, group):
    a = StoreOrderFactory(store__store__parent__parent=group)
    b = StoreOrderFactory(store__store__parent__parent=group)
    outside = StoreOrderFactory()
    page = op_client.get(reverse("pickup:store_orders")).content.decode()
    assert a.order_no in page and b.order_no in page and outside.order_no not in page
    assert op_client.get(reverse("pickup:order_detail", args=[outside.pk])).status_code == 404


def test_a_wrong_phone_at_store_verification_reveals_nothing(manager_setup):
    client, mine, _other = manager_setup
    order = StoreOrderFactory(store=mine, consumer_phone="13700001111")
    verify = reverse("pickup:store_order_verify")
    response = client.post(
        verify, {"order_no": order.order_no, "phone": "13700009999"}, follow=True
    )
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("pickup:store_orders")
    assert "13700001111" not in page
    assert "手机号" in page  # the refusal names the field
    order.refresh_from_db()
    assert order.status == "pending"
    # the order page, once opened, shows the phone masked to a store manager
    detail = client.get(reverse("pickup:store_order_detail", args=[order.pk])).content.decode()
    assert "13700001111" not in detail and "137****1111" in detail
