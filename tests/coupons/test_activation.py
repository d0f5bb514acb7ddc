"""Activation at sale of physical coupons: a rule sold at the counter generates its coupons not
activated; redemption refuses them with a sentence until the store or its POS activates them,
and a reversed sale deactivates them again."""

import pytest
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.models import RoleAssignment
from coupons import services
from coupons.models import Coupon, CouponRule
from coupons.selectors import activation_rules
from coupons.services import activation
from redemption import services as redemption
from tests.api.factories import ApiClientFactory
from tests.api.signed import SignedClient
from tests.coupons.factories import CouponRuleFactory
from tests.factories import OrgFactory, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role


@pytest.fixture
def setting():
    group = OrgFactory()
    store = StoreFactory(parent=group, name="蓝港店")
    operator = user_with_role(Role.OPERATOR, group)
    rule = CouponRuleFactory(
        creating_org=group,
        medium=CouponRule.Medium.PHYSICAL,
        code_prefix="ACT",
        numeric_length=4,
        total=10,
        needs_activation=True,
        usable_orgs=[group],
    )
    services.start_generation(actor=operator, rule=rule)
    services.receive_physical(
        actor=operator, rule=rule, code_from="ACT0000", code_to="ACT0009", store=store
    )
    services.distribute_physical(
        actor=operator, rule=rule, code_from="ACT0000", code_to="ACT0009", customer_name="散客"
    )
    return group, store, operator, rule


def test_redemption_refuses_a_coupon_not_activated_until_the_store_activates_its_range(
    client, setting
):
    _group, store, _operator, rule = setting
    clerk = user_with_role(Role.CLERK, store)
    assert not Coupon.objects.filter(rule=rule, activated=True).exists()
    with pytest.raises(Refused) as refused:
        redemption.redeem_coupons(
            store=store, codes=["ACT0001"], actor=clerk, app="pos", method="api"
        )
    assert refused.value.code == "coupon_not_activated"
    assert (
        refused.value.message == "券ACT0001：实物券尚未激活（售出时由门店或收银机激活），不能使用"
    )

    client.force_login(clerk)
    response = client.post(
        reverse("coupons:activation"),
        {"action": "activate", "rule": rule.pk, "code_from": "ACT0000", "code_to": "ACT0004"},
    )
    assert response.status_code == 302
    counts = activation_rules().get(pk=rule.pk)
    assert (counts.activated_count, counts.not_activated_count) == (5, 5)
    assert "5" in client.get(reverse("coupons:activation")).content.decode()
    redeemed = redemption.redeem_coupons(
        store=store, codes=["ACT0001"], actor=clerk, app="pos", method="api"
    )
    assert [c.code for c in redeemed.redeemed_coupons] == ["ACT0001"]
    with pytest.raises(Refused) as refused:
        redemption.redeem_coupons(
            store=store, codes=["ACT0007"], actor=clerk, app="pos", method="api"
        )
    assert refused.value.code == "coupon_not_activated"


def test_the_pos_activates_and_a_reversed_sale_deactivates_but_not_a_redeemed_coupon(
    client, setting
):
    _group, store, _operator, rule = setting
    pos = SignedClient(client, ApiClientFactory(store=store))
    sold = pos.post(
        "/api/v1/coupons/activate", {"codes": ["ACT0002", "ACT0003"]}, idempotency_key="s1"
    )
    assert sold.status_code == 200, sold.content
    assert sold.json() == {"changed": 2}
    by_range = pos.post(
        "/api/v1/coupons/activate",
        {"rule_code": rule.code, "code_from": "ACT0008", "code_to": "ACT0009"},
    )
    assert by_range.json() == {"changed": 2}
    clerk = user_with_role(Role.CLERK, store)
    redemption.redeem_coupons(store=store, codes=["ACT0002"], actor=clerk, app="pos", method="api")
    refused = pos.post(
        "/api/v1/coupons/deactivate", {"codes": ["ACT0002", "ACT0003"], "reason": "退货"}
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == {
        "code": "coupon_used",
        "message": "券ACT0002已核销，不能撤销售出",
    }
    assert Coupon.objects.get(code="ACT0003").activated  # the refusal changed nothing
    reversed_sale = pos.post("/api/v1/coupons/deactivate", {"codes": ["ACT0003"]})
    assert reversed_sale.json() == {"changed": 1}
    assert not Coupon.objects.get(code="ACT0003").activated
    with pytest.raises(Refused, match="尚未激活"):
        redemption.redeem_coupons(
            store=store, codes=["ACT0003"], actor=clerk, app="pos", method="api"
        )
    unknown = pos.post("/api/v1/coupons/activate", {"rule_code": "NOPE"})
    assert unknown.status_code == 404


def test_an_ordinary_physical_rule_is_active_at_once(setting):
    group, _store, operator, _rule = setting
    plain = CouponRuleFactory(
        creating_org=group, medium=CouponRule.Medium.PHYSICAL, code_prefix="PLN", total=2
    )
    services.start_generation(actor=operator, rule=plain)
    assert all(Coupon.objects.filter(rule=plain).values_list("activated", flat=True))
    with pytest.raises(Refused) as refused:
        activation.deactivate_coupons(actor=operator, store=None, codes=["PLN0000000"])
    assert refused.value.code in {"coupons_not_activated", "coupon_not_found"}


def test_the_activation_page_needs_its_permission(client):
    client.force_login(user_with_role(Role.FINANCE, OrgFactory()))
    assert client.get(reverse("coupons:activation")).status_code == 403
