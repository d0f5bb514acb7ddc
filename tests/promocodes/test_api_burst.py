"""Bursts of 50 at once on promo-code use and cancel (threads against PostgreSQL): no server
error, no effect counted twice."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from promocodes.models import DepartmentBudget, PromoCodeUse
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.promocodes.test_api import CANCEL, USE, order, promo

N = 50


def _burst(api_client, calls):
    barrier = threading.Barrier(len(calls))
    results, lock = [], threading.Lock()

    def worker(path, body):
        try:
            signed = SignedClient(Client(), api_client)
            barrier.wait()
            response = signed.post(path, body)
            with lock:
                results.append((response.status_code, response.json()))
        except Exception as exc:  # the test client raises a view's error: a server error
            with lock:
                results.append((500, repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=c) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(calls)
    return results


@pytest.mark.django_db(transaction=True)
def test_fifty_cancels_of_one_use_return_the_discount_once():
    code = promo()
    api_client = ApiClientFactory()
    assert SignedClient(Client(), api_client).post(USE, order(order_no="B-1")).status_code == 200
    results = _burst(api_client, [(CANCEL, {"order_no": "B-1"})] * N)
    statuses = Counter(status for status, _ in results)
    assert max(statuses) < 500, results[:3]
    assert statuses[200] >= 1
    code.refresh_from_db()
    assert code.uses_count == 0
    assert DepartmentBudget.objects.get().spent == Decimal("0.00")
    assert PromoCodeUse.objects.filter(cancelled_at__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_fifty_uses_and_cancels_of_one_order_at_once_leave_a_consistent_count():
    code = promo()
    api_client = ApiClientFactory()
    calls = [(USE, order(order_no="B-2"))] * (N // 2) + [(CANCEL, {"order_no": "B-2"})] * (N // 2)
    results = _burst(api_client, calls)
    assert max(status for status, _ in results) < 500, results[:3]
    code.refresh_from_db()
    live = PromoCodeUse.objects.filter(order_no="B-2", cancelled_at__isnull=True).count()
    assert live <= 1 and code.uses_count == live
    assert DepartmentBudget.objects.get().spent == Decimal("11.11") * live
