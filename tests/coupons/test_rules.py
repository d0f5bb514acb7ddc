import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry, RoleAssignment
from coupons import services
from coupons.models import CouponRule
from tests.coupons.factories import CouponRuleFactory
from tests.factories import OrgFactory, RegionFactory, user_with_role
from tests.members.factories import MemberFactory
from tests.products.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
TODAY = timezone.localdate()


@pytest.fixture
def group():
    return OrgFactory()


@pytest.fixture
def operator(client, group):
    user = user_with_role(Role.OPERATOR, group)
    client.force_login(user)
    return user


def form_data(group, **changes):
    data = {
        "name": "满300减20",
        "creating_org": group.pk,
        "usable_orgs": [group.pk],
        "medium": "electronic",
        "kind": "ordinary",
        "benefit": "cash",
        "face_value": "20",
        "effective_date": TODAY.isoformat(),
        "min_order_amount": "300",
        "per_member_limit": "1",
        "validity_type": "fixed",
        "valid_until": (TODAY + datetime.timedelta(days=30)).isoformat(),
        "code_mode": "sequential",
        "code_prefix": "YH",
        "numeric_length": "6",
        "total": "1000",
        "start_value": "0",
        "action": "create",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_create_rule_computes_end_value_and_audits(client, operator, group):
    resp = client.post(reverse("coupons:rule_create"), form_data(group, start_value="5"))
    assert resp.status_code == 302
    rule = CouponRule.objects.get()
    assert rule.status == CouponRule.Status.CREATED and rule.end_value == 1004
    assert rule.code.startswith("YHQ-FG-") and rule.created_by == operator
    assert AuditEntry.objects.filter(action="coupons.rule_create", object_id=str(rule.pk)).exists()


def test_draft_button_saves_as_draft(client, operator, group):
    client.post(reverse("coupons:rule_create"), form_data(group, action="draft"))
    assert CouponRule.objects.get().status == CouponRule.Status.DRAFT


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"medium": "physical", "kind": "marketing"},
            "kind",
            "优惠券种类：实物券的种类固定为普通券",
        ),
        ({"medium": "physical", "kind": "u_value_exchange"}, "kind", "实物券的种类固定为普通券"),
        (
            {"kind": "marketing", "claim_deadline": TODAY.isoformat()},
            "claim_deadline",
            "最迟领取日期：仅电子普通券可设置",
        ),
        (
            {"medium": "physical", "claim_deadline": TODAY.isoformat()},
            "claim_deadline",
            "仅电子普通券",
        ),
        (
            {"claim_deadline": (TODAY - datetime.timedelta(days=1)).isoformat()},
            "claim_deadline",
            "最迟领取日期：不得早于生效日期",
        ),
        ({"medium": "physical", "sale_price": "9.9"}, "sale_price", "券售价：仅电子普通券可设置"),
        (
            {"kind": "u_value_exchange", "sale_price": "9.9"},
            "sale_price",
            "券售价：仅电子普通券可设置",
        ),
        ({"sale_price": "0"}, "sale_price", "券售价：必须大于0"),
        (
            {"medium": "physical", "transferable": "on"},
            "transferable",
            "可转赠微信好友：仅电子券可转赠",
        ),
        ({"kind": "u_value_exchange"}, "u_value_price", "U享值价格：积分兑换券必须填写U享值价格"),
        ({"u_value_price": "100"}, "u_value_price", "U享值价格：仅积分兑换券可设置"),
        (
            {"benefit": "recharge", "recharge_number_length": "18"},
            "benefit",
            "券优惠方式：充值券仅适用于实物普通券",
        ),
        ({"benefit": "discount", "face_value": None}, "discount_rate", "折扣率：必须在0到100之间"),
        (
            {"benefit": "discount", "face_value": None, "discount_rate": "100"},
            "discount_rate",
            "折扣率",
        ),
        ({"benefit": "discount"}, "face_value", "面额：仅代金券、充值券可设置"),
        ({"face_value": None}, "face_value", "面额：必须填写大于0的面额"),
        (
            {"benefit": "product", "face_value": None},
            "exchange_product",
            "抵换食品：食品券必须选择抵换食品",
        ),
        (
            {
                "benefit": "product",
                "face_value": None,
                "exchange_product": lambda: ProductFactory().pk,
                "excluded_categories": lambda: [CategoryFactory(name="中药").pk],
            },
            "excluded_categories",
            "不适用食品类别：仅代金券、充值券可设置",
        ),
        ({"valid_until": None}, "valid_until", "有效期至：有效类型为有效期时必须填写"),
        (
            {"valid_until": (TODAY - datetime.timedelta(days=1)).isoformat()},
            "valid_until",
            "不得早于生效日期",
        ),
        (
            {"validity_type": "days", "valid_until": None},
            "valid_days",
            "有效天数：有效类型为有效天数时必须填写",
        ),
        (
            {"validity_type": "days", "valid_days": "10"},
            "valid_until",
            "有效期至：仅有效类型为有效期时可设置",
        ),
        (
            {"numeric_length": "3", "total": "1001"},
            "numeric_length",
            "数值长度：截止值1000超出数值长度3位",
        ),
        ({"total": "0"}, "total", "总张数：至少1张"),
        ({"start_value": "-1"}, "start_value", "开始值：不能为负数"),
        ({"code_prefix": "Y H"}, "code_prefix", "前置字符：只能包含字母、数字和“-”"),
        (
            {"code_mode": "random", "numeric_length": "6", "total": "1000"},
            "numeric_length",
            "低于安全下限",
        ),
        (
            {"medium": "physical", "benefit": "recharge", "recharge_number_length": "14"},
            "recharge_number_length",
            "充值券号长度：充值券号长度必须为15-20位",
        ),
        (
            {"recharge_number_length": "18"},
            "recharge_number_length",
            "充值券号长度：仅充值券可设置",
        ),
        ({"name": ""}, "name", "券名称：必须填写"),
        ({"usable_orgs": []}, "usable_orgs", "可使用组织"),
    ],
)
def test_wrong_combinations_are_refused_naming_the_field(
    client, operator, group, changes, field, message
):
    changes = {k: v() if callable(v) else v for k, v in changes.items()}
    resp = client.post(reverse("coupons:rule_create"), form_data(group, **changes))
    assert resp.status_code == 200
    assert not CouponRule.objects.exists()
    errors = resp.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])


@pytest.mark.parametrize(
    "changes",
    [
        {"medium": "physical", "benefit": "recharge", "recharge_number_length": "20"},
        {"kind": "u_value_exchange", "u_value_price": "2000"},
        {"kind": "marketing", "transferable": "on"},
        {"benefit": "discount", "face_value": None, "discount_rate": "95"},
        {
            "benefit": "product",
            "face_value": None,
            "exchange_product": lambda: ProductFactory(sku="P1", name="煎药费").pk,
        },
        {"validity_type": "days", "valid_until": None, "valid_days": "30"},
        {
            "sale_price": "9.90",
            "claim_deadline": TODAY.isoformat(),
            "excluded_categories": lambda: [
                CategoryFactory(code="CFY", name="处方药").pk,
                CategoryFactory(code="BJP", name="保健品").pk,
            ],
        },
        {"code_mode": "random", "numeric_length": "10"},
    ],
)
def test_right_combinations_are_accepted(client, operator, group, changes):
    changes = {k: v() if callable(v) else v for k, v in changes.items()}
    resp = client.post(reverse("coupons:rule_create"), form_data(group, **changes))
    assert resp.status_code == 302, resp.context["form"].errors
    rule = CouponRule.objects.get()
    if "excluded_categories" in changes:
        assert sorted(rule.excluded_categories.values_list("name", flat=True)) == [
            "保健品",
            "处方药",
        ]
    if "exchange_product" in changes:
        assert rule.exchange_product.sku == "P1"


def test_workflow_submit_approve_and_reject_with_reason(client, operator, group):
    rule = CouponRuleFactory(creating_org=group, status=CouponRule.Status.CREATED)
    client.post(reverse("coupons:rule_action", args=[rule.pk, "submit"]))
    rule.refresh_from_db()
    assert rule.status == CouponRule.Status.IN_REVIEW
    # the operator cannot approve
    assert client.post(reverse("coupons:rule_action", args=[rule.pk, "approve"])).status_code == 403
    finance = user_with_role(Role.FINANCE, group)
    client.force_login(finance)
    client.post(reverse("coupons:rule_action", args=[rule.pk, "reject"]), {"reason": ""})
    rule.refresh_from_db()
    assert rule.status == CouponRule.Status.IN_REVIEW
    client.post(reverse("coupons:rule_action", args=[rule.pk, "reject"]), {"reason": "面额过大"})
    rule.refresh_from_db()
    assert rule.status == CouponRule.Status.DRAFT and rule.reject_reason == "面额过大"
    services.submit_rule(actor=operator, rule=rule)
    client.post(reverse("coupons:rule_action", args=[rule.pk, "approve"]))
    rule.refresh_from_db()
    assert rule.status == CouponRule.Status.APPROVED
    assert rule.approved_by == finance and rule.approved_at
    actions = set(
        AuditEntry.objects.filter(object_id=str(rule.pk)).values_list("action", flat=True)
    )
    assert {"coupons.rule_submit", "coupons.rule_reject", "coupons.rule_approve"} <= actions


def test_disable_stops_issuance_and_enable_restores_it(client, operator, group):
    rule = CouponRuleFactory(creating_org=group)
    member = MemberFactory()
    client.post(reverse("coupons:rule_action", args=[rule.pk, "disable"]))
    with pytest.raises(Refused, match="已禁用"):
        services.claim_coupon(actor=None, rule=rule, member=member)
    client.post(reverse("coupons:rule_action", args=[rule.pk, "enable"]))
    services.claim_coupon(actor=None, rule=rule, member=member)
    client.post(reverse("coupons:rule_action", args=[rule.pk, "invalidate"]))
    rule.refresh_from_db()
    assert rule.is_invalidated and rule.invalidated_by == operator
    with pytest.raises(Refused, match="已失效"):
        services.claim_coupon(actor=None, rule=rule, member=member)
    client.post(reverse("coupons:rule_action", args=[rule.pk, "revalidate"]))
    services.claim_coupon(actor=None, rule=rule, member=MemberFactory())


def test_approved_rule_cannot_be_edited_but_can_be_copied(client, operator, group):
    rule = CouponRuleFactory(creating_org=group, excluded_categories=["处方药"])
    resp = client.get(reverse("coupons:rule_edit", args=[rule.pk]))
    assert resp.status_code == 302
    resp = client.post(reverse("coupons:rule_copy", args=[rule.pk]))
    copy = CouponRule.objects.exclude(pk=rule.pk).get()
    assert copy.status == CouponRule.Status.CREATED or copy.status == CouponRule.Status.DRAFT
    assert copy.issued_count == 0
    assert list(copy.excluded_categories.values_list("name", flat=True)) == ["处方药"]
    assert copy.code != rule.code and copy.face_value == rule.face_value


def test_pages_render(client, operator, group):
    rule = CouponRuleFactory(creating_org=group)
    for url in [
        reverse("coupons:rule_list"),
        reverse("coupons:rule_create"),
        reverse("coupons:rule_detail", args=[rule.pk]),
        reverse("coupons:rule_coupons", args=[rule.pk]),
        reverse("coupons:rule_gift", args=[rule.pk]),
        reverse("coupons:coupon_list"),
        reverse("coupons:campaign_list"),
        reverse("coupons:campaign_create"),
    ]:
        assert client.get(url).status_code == 200, url


def test_permission_and_scope(client, group):
    other_group = OrgFactory()
    rule = CouponRuleFactory(creating_org=other_group)
    region = RegionFactory(parent=group)
    client.force_login(user_with_role(Role.CLERK, region))
    assert client.get(reverse("coupons:rule_list")).status_code == 403
    assert client.get(reverse("coupons:rule_create")).status_code == 403
    client.force_login(user_with_role(Role.OPERATOR, group))
    assert client.get(reverse("coupons:rule_detail", args=[rule.pk])).status_code == 404
    assert client.get(reverse("coupons:rule_edit", args=[rule.pk])).status_code == 404
    assert client.post(reverse("coupons:rule_action", args=[rule.pk, "disable"])).status_code == 404
    assert rule.code not in client.get(reverse("coupons:rule_list")).content.decode()


def test_an_empty_save_names_the_fields_not_the_constraint(client, operator, group):
    resp = client.post(reverse("coupons:rule_create"), {"action": "draft"})
    page = resp.content.decode()
    assert resp.status_code == 200
    assert "rule_" not in page and "约束" not in page
    resp = client.post(reverse("coupons:rule_create"), form_data(group, total="0"))
    page = resp.content.decode()
    assert "总张数：至少1张" in page  # the form's own check comes before the constraint's
    assert "rule_complete_unless_draft" not in page
