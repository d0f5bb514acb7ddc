"""Bursts of 50 at once on redeem and return (threads against PostgreSQL, signed like a till):
no server error, every coupon redeemed or returned once."""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from coupons.models import Coupon
from redemption.models import RedemptionLine
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.coupons.factories import CouponFactory
from tests.redemption.test_api import REDEEM, RETURN, redeem_body

N = 50


def _burst(api_client, calls):
    barrier = threading.Barrier(len(calls))
    results, lock = [], threading.Lock()

    def worker(path, body, key):
        try:
            signed = SignedClient(Client(), api_client)
            barrier.wait()
            response = signed.post(path, body, idempotency_key=key)
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=c) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_fifty_returns_of_one_coupon_return_it_once(store, rule, member):
    api_client = ApiClientFactory(store=store)
    coupon = CouponFactory(rule=rule, member=member)
    setup = SignedClient(Client(), api_client)
    assert setup.post(REDEEM, redeem_body(store, coupon.code)).status_code == 200
    results = _burst(api_client, [(RETURN, redeem_body(store, coupon.code), None)] * N)
    statuses = Counter(status for status, _ in results)
    assert max(statuses) < 500, results[:3]
    assert statuses[200] >= 1
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.UNUSED
    assert RedemptionLine.objects.filter(coupon=coupon, returned_at__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_redeems_with_one_idempotency_key_redeem_once(store, rule, member):
    api_client = ApiClientFactory(store=store)
    coupons = [CouponFactory(rule=rule, member=member) for _ in range(3)]
    key = uuid.uuid4().hex
    body = redeem_body(store, *[c.code for c in coupons])
    results = _burst(api_client, [(REDEEM, body, key)] * N)
    statuses = Counter(status for status, _ in results)
    assert max(statuses) < 500, results[:3]
    assert statuses[200] >= 1
    assert RedemptionLine.objects.count() == 3
    winners = {str(b) for s, b in results if s == 200}
    assert len(winners) == 1  # every 200 is the same answer, replayed
