"""充值券 by their 15–20-digit number (seed 001: POS and WeChat use the number) at the API and the
counter, topping up stored value once; the balance on the member card; wallet tabs paged past 60
coupons with exact counts (seed 000)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.models import RoleAssignment
from coupons.models import Coupon, CouponRule
from members.models import Member, StoredValueEntry
from redemption import services
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import RegionFactory, StoreFactory, user_with_role
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
REDEEM = "/api/v1/coupons/redeem"
NUMBER = "620123456789012345"  # 18 digits


def recharge_coupon(store, member=None, number=NUMBER, face_value="100.00"):
    rule = CouponRuleFactory(
        usable_orgs=[store],
        medium=CouponRule.Medium.PHYSICAL,
        benefit=CouponRule.Benefit.RECHARGE,
        face_value=Decimal(face_value),
        min_order_amount=0,
    )
    return CouponFactory(
        rule=rule, member=member, recharge_no=number, channel=Coupon.Channel.PHYSICAL
    )


@pytest.fixture
def clerk(client, store):
    user = user_with_role(RoleAssignment.Role.CLERK, store, username="lina_pan")
    client.force_login(user)
    return user


def test_the_api_redeems_a_recharge_coupon_by_its_number_once(client, store, member):
    coupon = recharge_coupon(store, member=member)
    pos = SignedClient(client, ApiClientFactory(store=store))
    response = pos.post(REDEEM, {"store_code": store.code, "codes": [NUMBER]})
    assert response.status_code == 200, response.json()
    assert response.json()["coupons"][0]["code"] == coupon.code
    member.refresh_from_db()
    assert member.stored_value == Decimal("100.00")
    again = pos.post(REDEEM, {"store_code": store.code, "codes": [NUMBER]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "coupon_used"
    member.refresh_from_db()
    assert member.stored_value == Decimal("100.00")
    assert StoredValueEntry.objects.filter(member=member).count() == 1


def test_an_unbound_recharge_card_tops_up_the_member_the_till_names(client, store, member):
    recharge_coupon(store)
    pos = SignedClient(client, ApiClientFactory(store=store))
    without = pos.post(REDEEM, {"store_code": store.code, "codes": [NUMBER]})
    assert without.status_code == 409 and without.json()["error"]["code"] == "member_required"
    response = pos.post(
        REDEEM, {"store_code": store.code, "codes": [NUMBER], "card_no": member.card_no}
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.stored_value == Decimal("100.00")
    unknown = pos.post(REDEEM, {"store_code": store.code, "codes": ["x"], "card_no": "nope"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "member_not_found"


def test_a_number_that_is_no_coupon_is_coupon_not_found(client, store):
    pos = SignedClient(client, ApiClientFactory(store=store))
    response = pos.post(REDEEM, {"store_code": store.code, "codes": ["123456789012345"]})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "coupon_not_found"


def test_a_card_bound_to_another_member_is_refused(store, member, clerk_user):
    recharge_coupon(store, member=MemberFactory())
    with pytest.raises(Refused) as exc:
        services.redeem_recharge_coupon(
            store=store, number=NUMBER, member=member, actor=clerk_user, app="门店后台"
        )
    assert exc.value.code == "coupon_not_members"


def test_the_counter_tops_up_by_number_and_the_card_shows_the_balance(client, clerk, store, member):
    recharge_coupon(store)
    url = reverse("redemption:lookup")
    page = client.get(url, {"q": member.phone}).content.decode()
    assert 'id="recharge-form"' in page and "储值余额" in page and "¥0.00" in page
    response = client.post(
        reverse("redemption:recharge"), {"member": member.pk, "q": member.phone, "number": NUMBER}
    )
    assert response.status_code == 302
    shown = client.get(response["Location"]).content.decode()
    assert f"充值券{NUMBER}已充值¥100.00，储值余额¥100.00" in shown
    assert '<dd id="stored-value">¥100.00</dd>' in shown
    again = client.post(
        reverse("redemption:recharge"),
        {"member": member.pk, "q": member.phone, "number": NUMBER},
        follow=True,
    ).content.decode()
    assert "券已使用" in again
    bad = client.post(
        reverse("redemption:recharge"),
        {"member": member.pk, "q": member.phone, "number": "12AB"},
        follow=True,
    ).content.decode()
    assert "充值券号应为15–20位数字" in bad
    member.refresh_from_db()
    assert member.stored_value == Decimal("100.00")


def test_the_counter_recharge_needs_the_permission(client, store, member):
    client.force_login(user_with_role(RoleAssignment.Role.OPERATOR, store))
    response = client.post(reverse("redemption:recharge"), {"member": member.pk, "number": NUMBER})
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_one_number_at_two_tills_at_once_tops_up_once():
    store = StoreFactory(parent=RegionFactory())
    member = MemberFactory()
    recharge_coupon(store, member=member)
    api_client = ApiClientFactory(store=store)
    barrier = threading.Barrier(4)
    results = []

    def worker():
        try:
            signed = SignedClient(Client(), api_client)
            barrier.wait()
            results.append(signed.post(REDEEM, {"store_code": store.code, "codes": [NUMBER]}))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    assert Member.objects.get(pk=member.pk).stored_value == Decimal("100.00")


def test_the_wallet_pages_past_60_coupons_with_exact_counts(client, clerk, store, member):
    rule = CouponRuleFactory(usable_orgs=[store])
    coupons = CouponFactory.create_batch(130, rule=rule, member=member)
    url = reverse("redemption:lookup")
    first = client.get(url, {"q": member.phone, "view": "coupons", "tab": "usable"})
    html = first.content.decode()
    assert "本店可用(130)" in html
    assert html.count('class="coupon-check"') == 60
    assert "第 1 / 3 页" in html and "共 130 条" in html
    assert 'id="wallet-next"' in html
    seen = set()
    for page in (1, 2, 3):
        html = client.get(
            url, {"q": member.phone, "view": "coupons", "tab": "usable", "page": page}
        ).content.decode()
        seen |= {c.code for c in coupons if c.code in html}
    assert seen == {c.code for c in coupons}
    last = client.get(url, {"q": member.phone, "tab": "usable", "page": 3}).content.decode()
    assert last.count('class="coupon-check"') == 10 and 'id="wallet-next"' not in last
    # a page past the end shows the last one
    beyond = client.get(url, {"q": member.phone, "tab": "usable", "page": 99}).content.decode()
    assert beyond.count('class="coupon-check"') == 10
