"""A burst of submits of one code gives one order (PostgreSQL, threads)."""

import threading

import pytest
from django.db import connection

from couponhub.core.errors import Refused
from pickup import services
from pickup.models import PickupCode, PickupOrder
from tests.pickup.factories import PickupCodeFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_one_code_give_one_order():
    code = PickupCodeFactory()
    delivery = services.Delivery(
        kind="online",
        name="王小二",
        phone="13912345678",
        province="北京市",
        city="北京市",
        district="朝阳区",
        address="朝阳公园路6号",
    )
    barrier, results = threading.Barrier(30), []

    def submit():
        try:
            barrier.wait()
            services.place_order(
                serial=code.serial, product_ids=[], delivery=delivery, client_ip=None
            )
            results.append("ok")
        except Refused as exc:
            results.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert all("已使用" in r for r in results if r != "ok")
    assert PickupOrder.objects.filter(code=code).count() == 1
    assert PickupCode.objects.get(pk=code.pk).status == "used"
