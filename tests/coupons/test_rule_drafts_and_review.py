"""Seed 001: 暂存 saves an incomplete draft (only the name), 保存/提交 demand everything; finance's
review queue for coupon rules (待审核 by default, batch 审核通过/驳回 with a reason); 领用 of an
overlapping range says how many were already received."""

import pytest
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry, RoleAssignment
from coupons import services
from coupons.models import Coupon, CouponRule
from tests.coupons.factories import CouponRuleFactory
from tests.coupons.test_rules import form_data
from tests.factories import OrgFactory, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
S = CouponRule.Status


@pytest.fixture
def group():
    return OrgFactory()


@pytest.fixture
def operator(client, group):
    user = user_with_role(Role.OPERATOR, group)
    client.force_login(user)
    return user


@pytest.fixture
def finance(group):
    return user_with_role(Role.FINANCE, group)


def test_a_draft_needs_only_its_name(client, operator, group):
    response = client.post(
        reverse("coupons:rule_create"),
        {"name": "半成品券", "creating_org": group.pk, "action": "draft"},
    )
    assert response.status_code == 302, response.context["form"].errors
    rule = CouponRule.objects.get()
    assert rule.status == S.DRAFT and rule.name == "半成品券"
    assert rule.effective_date is None and rule.total == 0


def test_a_draft_without_a_name_is_refused(client, operator, group):
    response = client.post(
        reverse("coupons:rule_create"), {"creating_org": group.pk, "action": "draft"}
    )
    assert response.status_code == 200 and "券名称：必须填写" in response.content.decode()
    assert not CouponRule.objects.exists()


def test_save_demands_everything(client, operator, group):
    response = client.post(
        reverse("coupons:rule_create"),
        {"name": "半成品券", "creating_org": group.pk, "action": "create"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "生效日期：必须填写" in page and "总张数：至少1张" in page
    assert not CouponRule.objects.exists()


def test_an_incomplete_draft_cannot_be_submitted_until_completed(client, operator, group):
    client.post(
        reverse("coupons:rule_create"),
        {"name": "半成品券", "creating_org": group.pk, "action": "draft"},
    )
    rule = CouponRule.objects.get()
    with pytest.raises(Refused) as exc:
        services.submit_rule(actor=operator, rule=rule)
    assert (
        "未填写完整，不能提交审核" in exc.value.message
        and "生效日期：必须填写" in exc.value.message
    )
    # completed and saved as draft again, it goes to review
    client.post(reverse("coupons:rule_edit", args=[rule.pk]), form_data(group, action="draft"))
    rule.refresh_from_db()
    assert rule.total == 1000
    services.submit_rule(actor=operator, rule=rule)
    rule.refresh_from_db()
    assert rule.status == S.IN_REVIEW


def test_the_database_refuses_an_incomplete_rule_past_draft(group):
    from django.db import IntegrityError, transaction

    rule = CouponRuleFactory(creating_org=group)
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponRule.objects.filter(pk=rule.pk).update(effective_date=None)


def test_the_review_queue_shows_rules_in_review_by_default(client, group, finance):
    waiting = CouponRuleFactory(creating_org=group, status=S.IN_REVIEW, name="待审的券")
    CouponRuleFactory(creating_org=group, status=S.APPROVED, name="已过的券")
    CouponRuleFactory(creating_org=OrgFactory(), status=S.IN_REVIEW, name="别处的券")
    client.force_login(finance)
    page = client.get(reverse("coupons:rule_review")).content.decode()
    assert "券规则审核" in page and "待审核" in page
    assert waiting.name in page and "已过的券" not in page and "别处的券" not in page
    assert "审核通过" in page and "审核驳回" in page and "驳回原因" in page


def test_batch_approve_and_reject_with_a_reason(client, group, finance):
    rules = [CouponRuleFactory(creating_org=group, status=S.IN_REVIEW) for _ in range(3)]
    done = CouponRuleFactory(creating_org=group, status=S.APPROVED)
    client.force_login(finance)
    url = reverse("coupons:rule_review_batch")
    response = client.post(
        url, {"selection": [rules[0].pk, rules[1].pk, done.pk], "decision": "approve"}, follow=True
    )
    page = response.content.decode()
    assert "已审核通过2条券规则" in page
    assert f"券规则{done.code}：只有审核中的券规则可以审核" in page
    assert {r.status for r in CouponRule.objects.filter(pk__in=[rules[0].pk, rules[1].pk])} == {
        S.APPROVED
    }
    assert CouponRule.objects.get(pk=rules[0].pk).approved_by == finance
    # rejecting needs a reason
    no_reason = client.post(url, {"selection": [rules[2].pk], "decision": "reject"}, follow=True)
    assert "驳回原因：必须填写" in no_reason.content.decode()
    assert CouponRule.objects.get(pk=rules[2].pk).status == S.IN_REVIEW
    client.post(url, {"selection": [rules[2].pk], "decision": "reject", "reason": "面额过高"})
    rejected = CouponRule.objects.get(pk=rules[2].pk)
    assert rejected.status == S.DRAFT and rejected.reject_reason == "面额过高"
    assert AuditEntry.objects.filter(action="coupons.rule_reject", note="面额过高").count() == 1
    listed = client.get(reverse("coupons:rule_review"), {"status": "rejected"}).content.decode()
    assert rejected.code in listed and "面额过高" in listed


def test_the_review_queue_needs_the_permission_and_scope(client, group, operator):
    assert client.get(reverse("coupons:rule_review")).status_code == 403
    foreign = CouponRuleFactory(creating_org=OrgFactory(), status=S.IN_REVIEW)
    client.force_login(user_with_role(Role.FINANCE, group))
    client.post(
        reverse("coupons:rule_review_batch"), {"selection": [foreign.pk], "decision": "approve"}
    )
    assert CouponRule.objects.get(pk=foreign.pk).status == S.IN_REVIEW


def test_receiving_an_overlapping_range_says_how_many_were_already_received(operator, group):
    store = StoreFactory(parent=group)
    rule = CouponRuleFactory(
        creating_org=group,
        medium=CouponRule.Medium.PHYSICAL,
        code_prefix="SW",
        numeric_length=5,
        total=10,
    )
    services.start_generation(actor=operator, rule=rule)
    first = services.receive_physical(
        actor=operator, rule=rule, code_from="SW00000", code_to="SW00004", store=store
    )
    assert (first.count, first.already) == (5, 0)
    overlap = services.receive_physical(
        actor=operator, rule=rule, code_from="SW00003", code_to="SW00007", store=store
    )
    assert (overlap.count, overlap.already) == (3, 2)
    with pytest.raises(Refused) as exc:
        services.receive_physical(
            actor=operator, rule=rule, code_from="SW00000", code_to="SW00007", store=store
        )
    assert exc.value.message == "该券码范围内的8张券此前均已领用，没有待领用的券"
    assert Coupon.objects.filter(rule=rule, status="received").count() == 8


def test_the_page_says_how_many_were_already_received(client, operator, group):
    store = StoreFactory(parent=group)
    rule = CouponRuleFactory(
        creating_org=group,
        medium=CouponRule.Medium.PHYSICAL,
        code_prefix="SW",
        numeric_length=5,
        total=10,
    )
    services.start_generation(actor=operator, rule=rule)
    services.receive_physical(
        actor=operator, rule=rule, code_from="SW00000", code_to="SW00004", store=store
    )
    response = client.post(
        reverse("coupons:rule_coupons", args=[rule.pk]),
        {"step": "receive", "r-code_from": "SW00003", "r-code_to": "SW00007", "r-store": store.pk},
        follow=True,
    )
    page = response.content.decode()
    assert "该券码范围内有2张券此前已领用，未重复领用" in page
