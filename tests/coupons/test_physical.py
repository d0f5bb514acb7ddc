import pytest
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.jobs import run_job
from couponhub.core.models import Job, RoleAssignment
from coupons import services
from coupons.models import Coupon, CouponRule
from tests.coupons.factories import CampaignFactory, CouponFactory, CouponRuleFactory
from tests.factories import OrgFactory, StoreFactory, user_with_role
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
Status = Coupon.Status


@pytest.fixture
def group():
    return OrgFactory()


@pytest.fixture
def operator(client, group):
    user = user_with_role(Role.OPERATOR, group)
    client.force_login(user)
    return user


def physical_rule(group, **kw):
    kw.setdefault("code_prefix", "SW")
    kw.setdefault("numeric_length", 5)
    return CouponRuleFactory(creating_org=group, medium=CouponRule.Medium.PHYSICAL, **kw)


def test_generate_receive_distribute_then_usable(client, operator, group):
    store = StoreFactory(parent=group)
    rule = physical_rule(group, total=10)
    resp = client.post(reverse("coupons:rule_generate", args=[rule.pk]))
    assert resp.status_code == 302
    assert Coupon.objects.filter(rule=rule, status=Status.GENERATED).count() == 10
    first, last = "SW00000", "SW00004"
    client.post(
        reverse("coupons:rule_coupons", args=[rule.pk]),
        {"step": "receive", "r-code_from": first, "r-code_to": last, "r-store": store.pk},
    )
    assert Coupon.objects.filter(rule=rule, status=Status.RECEIVED, store=store).count() == 5
    received = Coupon.objects.get(code=first)
    assert not received.is_usable_at(store)
    member = MemberFactory()
    client.post(
        reverse("coupons:rule_coupons", args=[rule.pk]),
        {
            "step": "distribute",
            "d-code_from": first,
            "d-code_to": "SW00001",
            "d-member": member.phone,
        },
    )
    coupon = Coupon.objects.get(code=first)
    assert coupon.status == Status.UNUSED and coupon.member == member
    assert coupon.is_usable_at(store)
    assert Coupon.objects.get(code="SW00002").status == Status.RECEIVED
    # generating again is refused: everything exists
    with pytest.raises(Refused, match="已全部生成"):
        services.start_generation(actor=operator, rule=rule)


def test_large_generation_is_a_resumable_job(group, operator, django_capture_on_commit_callbacks):
    rule = physical_rule(group, total=1500)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_generation(actor=operator, rule=rule)
    assert isinstance(job, Job) and job.total == 1500
    # a worker died after part of the work
    services.generate_physical_chunk(rule=rule, numbers=list(range(0, 700)), job=job)
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    numbers = list(Coupon.objects.filter(rule=rule).values_list("number", flat=True))
    assert sorted(numbers) == list(range(1500))
    rule.refresh_from_db()
    assert rule.generated_count == 1500


def test_recharge_coupons_get_unique_random_numbers(group, operator):
    rule = physical_rule(
        group, total=50, benefit=CouponRule.Benefit.RECHARGE, recharge_number_length=17
    )
    services.start_generation(actor=operator, rule=rule)
    numbers = list(Coupon.objects.filter(rule=rule).values_list("recharge_no", flat=True))
    assert len(set(numbers)) == 50
    assert all(len(n) == 17 and n.isdigit() for n in numbers)


def test_receive_range_outside_rule_refused(client, operator, group):
    rule = physical_rule(group, total=3)
    services.start_generation(actor=operator, rule=rule)
    with pytest.raises(Refused, match="不属于该券规则"):
        services.receive_physical(
            actor=operator, rule=rule, code_from="SW00000", code_to="XX1", store=StoreFactory()
        )


def test_coupon_actions_and_scope(client, operator, group):
    coupon = CouponFactory(rule=CouponRuleFactory(creating_org=group))
    client.post(reverse("coupons:coupon_action", args=[coupon.pk, "freeze"]))
    coupon.refresh_from_db()
    assert coupon.status == Status.FROZEN
    client.post(reverse("coupons:coupon_action", args=[coupon.pk, "unfreeze"]))
    client.post(reverse("coupons:coupon_action", args=[coupon.pk, "void"]))
    coupon.refresh_from_db()
    assert coupon.status == Status.VOIDED
    foreign = CouponFactory(rule=CouponRuleFactory(creating_org=OrgFactory()))
    assert (
        client.post(reverse("coupons:coupon_action", args=[foreign.pk, "void"])).status_code == 404
    )
    client.force_login(user_with_role(Role.FINANCE, group))
    assert (
        client.post(reverse("coupons:coupon_action", args=[coupon.pk, "void"])).status_code == 403
    )


def test_campaign_create_sets_marketing_reference_type(client, operator, group):
    rule = CouponRuleFactory(creating_org=group, kind=CouponRule.Kind.MARKETING)
    resp = client.post(
        reverse("coupons:campaign_create"),
        {
            "code": "FQ24000149",
            "name": "积分商城-煎药券-1付药",
            "rule": rule.pk,
            "channel": "points_mall",
            "starts_on": "2024-09-01",
            "ends_on": "2024-08-01",
            "is_active": "on",
        },
    )
    assert "结束日期：不得早于开始日期" in resp.content.decode()
    resp = client.post(
        reverse("coupons:campaign_create"),
        {
            "code": "FQ24000149",
            "name": "积分商城-煎药券-1付药",
            "rule": rule.pk,
            "channel": "points_mall",
            "starts_on": "2024-09-01",
            "ends_on": "2024-10-01",
            "is_active": "on",
        },
    )
    assert resp.status_code == 302
    rule.refresh_from_db()
    assert rule.reference_type == "积分商城"
    campaign = CampaignFactory(rule=CouponRuleFactory(creating_org=OrgFactory()))
    assert client.get(reverse("coupons:campaign_edit", args=[campaign.pk])).status_code == 404
