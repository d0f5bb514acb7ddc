"""Which fields of a coupon rule apply, and the checks a rule must pass (seed 001).

Pure functions over an unsaved CouponRule, used by the form and again by the service. Errors are
Chinese and start with the field's label, e.g. "最迟领取日期：不得早于生效日期".
"""

import re
from decimal import Decimal

from couponhub.core.codes import UNAMBIGUOUS_ALPHABET, assess_code_space
from coupons.models import RECHARGE_MAX_LEN, RECHARGE_MIN_LEN, CouponRule

Medium, Kind, Benefit = CouponRule.Medium, CouponRule.Kind, CouponRule.Benefit
ValidityType, CodeMode = CouponRule.ValidityType, CouponRule.CodeMode

LABELS = {
    "name": "券名称",
    "creating_org": "创建组织",
    "usable_orgs": "可使用组织",
    "medium": "优惠券介质",
    "needs_activation": "售出后激活",
    "kind": "优惠券种类",
    "claim_deadline": "最迟领取日期",
    "sale_price": "券售价",
    "transferable": "可转赠微信好友",
    "u_value_price": "U享值价格",
    "benefit": "券优惠方式",
    "face_value": "面额",
    "discount_rate": "折扣率",
    "exchange_product": "抵换食品",
    "excluded_categories": "不适用食品类别",
    "effective_date": "生效日期",
    "min_order_amount": "订单最小金额",
    "per_member_limit": "每人限领",
    "validity_type": "有效类型",
    "valid_until": "有效期至",
    "valid_days": "有效天数",
    "code_mode": "编码方式",
    "code_prefix": "前置字符",
    "code_suffix": "后置字符",
    "numeric_length": "数值长度",
    "total": "总张数",
    "start_value": "开始值",
    "recharge_number_length": "充值券号长度",
}

# field → predicate(rule) telling whether the field is enabled for this medium/kind/benefit
ENABLED = {
    "claim_deadline": lambda r: r.medium == Medium.ELECTRONIC and r.kind == Kind.ORDINARY,
    "sale_price": lambda r: r.medium == Medium.ELECTRONIC and r.kind == Kind.ORDINARY,
    "transferable": lambda r: r.medium == Medium.ELECTRONIC,
    "u_value_price": lambda r: r.kind == Kind.U_VALUE_EXCHANGE,
    "face_value": lambda r: r.benefit in (Benefit.CASH, Benefit.RECHARGE),
    "discount_rate": lambda r: r.benefit == Benefit.DISCOUNT,
    "exchange_product": lambda r: r.benefit == Benefit.PRODUCT,
    "excluded_categories": lambda r: r.benefit in (Benefit.CASH, Benefit.RECHARGE),
    "valid_until": lambda r: r.validity_type == ValidityType.FIXED,
    "valid_days": lambda r: r.validity_type == ValidityType.DAYS,
    "recharge_number_length": lambda r: r.benefit == Benefit.RECHARGE,
}
EMPTY = {
    "claim_deadline": None,
    "sale_price": None,
    "transferable": False,
    "u_value_price": None,
    "face_value": None,
    "discount_rate": None,
    "exchange_product": None,
    "valid_until": None,
    "valid_days": None,
    "recharge_number_length": None,
}

CODE_CHARS = re.compile(r"^[A-Za-z0-9\-]*$")
MIN_RANDOM_LENGTH = 6


def _value(rule: CouponRule, field: str):
    # a foreign key is read by its id: no query for an unsaved rule's product
    return getattr(rule, "exchange_product_id" if field == "exchange_product" else field)


def _check_excluded(rule: CouponRule, count: int, e: dict) -> None:
    """不适用食品类别 (many-to-many: counted by the caller, the rule may be unsaved)."""
    if count and not is_enabled(rule, "excluded_categories"):
        _err(e, "excluded_categories", _why_disabled("excluded_categories"))


def is_enabled(rule: CouponRule, field: str) -> bool:
    predicate = ENABLED.get(field)
    return predicate is None or predicate(rule)


def _err(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, f"{LABELS[field]}：{message}")


def rule_errors(
    rule: CouponRule, *, usable_org_count: int | None = None, excluded_category_count: int = 0
) -> dict[str, str]:
    """Every problem of the rule as {field: Chinese message}; empty when the rule is valid.

    Values of fields that are disabled for the rule's medium/kind/benefit are errors too: the
    form clears them first (`clear_disabled_fields`), so a value there means a forged request.
    The first message of a field wins, and the checks run in the form's order, sections below.
    """
    e: dict[str, str] = {}
    if not (rule.name or "").strip():
        _err(e, "name", "必须填写")
    if usable_org_count is not None and usable_org_count < 1:
        _err(e, "usable_orgs", "至少选择一个组织")
    _check_info(rule, e)
    _check_excluded(rule, excluded_category_count, e)
    _check_benefit(rule, e)
    _check_validity(rule, e)
    _check_code_rule(rule, e)
    return e


def draft_errors(rule: CouponRule, *, excluded_category_count: int = 0) -> dict[str, str]:
    """暂存 saves an incomplete draft: only the name is required; what is filled in must still
    be possible for the rule's medium/kind/benefit (保存 and 提交 then check everything)."""
    e: dict[str, str] = {}
    if not (rule.name or "").strip():
        _err(e, "name", "必须填写")
    if rule.medium == Medium.PHYSICAL and rule.kind != Kind.ORDINARY:
        _err(e, "kind", "实物券的种类固定为普通券")
    if rule.benefit == Benefit.RECHARGE and not (
        rule.medium == Medium.PHYSICAL and rule.kind == Kind.ORDINARY
    ):
        _err(e, "benefit", "充值券仅适用于实物普通券")
    for field, empty in EMPTY.items():
        value = _value(rule, field)
        if not is_enabled(rule, field) and value not in (empty, None, "", [], False):
            _err(e, field, _why_disabled(field))
    _check_excluded(rule, excluded_category_count, e)
    if rule.start_value is not None and rule.start_value < 0:
        _err(e, "start_value", "不能为负数")
    if rule.min_order_amount is not None and rule.min_order_amount < 0:
        _err(e, "min_order_amount", "不能为负数")
    return e


def _check_info(rule: CouponRule, e: dict) -> None:
    if rule.medium == Medium.PHYSICAL and rule.kind != Kind.ORDINARY:
        _err(e, "kind", "实物券的种类固定为普通券")
    for field, empty in EMPTY.items():
        value = _value(rule, field)
        if not is_enabled(rule, field) and value not in (empty, None, "", [], False):
            _err(e, field, _why_disabled(field))
    if rule.claim_deadline and rule.effective_date and rule.claim_deadline < rule.effective_date:
        _err(e, "claim_deadline", "不得早于生效日期")
    if rule.sale_price is not None and rule.sale_price <= 0:
        _err(e, "sale_price", "必须大于0（免费领取请留空）")
    if is_enabled(rule, "u_value_price") and not rule.u_value_price:
        _err(e, "u_value_price", "积分兑换券必须填写U享值价格（大于0）")


def _check_benefit(rule: CouponRule, e: dict) -> None:
    if rule.benefit == Benefit.RECHARGE and not (
        rule.medium == Medium.PHYSICAL and rule.kind == Kind.ORDINARY
    ):
        _err(e, "benefit", "充值券仅适用于实物普通券")
    if is_enabled(rule, "face_value") and (rule.face_value is None or rule.face_value <= 0):
        _err(e, "face_value", "必须填写大于0的面额（元）")
    if is_enabled(rule, "discount_rate") and (
        rule.discount_rate is None or not Decimal(0) < rule.discount_rate < Decimal(100)
    ):
        _err(e, "discount_rate", "必须在0到100之间（如95表示9.5折）")
    if is_enabled(rule, "exchange_product") and not rule.exchange_product_id:
        _err(e, "exchange_product", "食品券必须选择抵换食品")


def _check_validity(rule: CouponRule, e: dict) -> None:
    """The effective date, the order minimum and the validity (fixed date or days)."""
    if not rule.effective_date:
        _err(e, "effective_date", "必须填写")
    if rule.min_order_amount is None or rule.min_order_amount < 0:
        _err(e, "min_order_amount", "不能为负数")
    if rule.validity_type == ValidityType.FIXED:
        if not rule.valid_until:
            _err(e, "valid_until", "有效类型为有效期时必须填写")
        elif rule.effective_date and rule.valid_until < rule.effective_date:
            _err(e, "valid_until", "不得早于生效日期")
    elif not rule.valid_days or rule.valid_days < 1:
        _err(e, "valid_days", "有效类型为有效天数时必须填写（至少1天）")


def _check_code_rule(rule: CouponRule, e: dict) -> None:
    for field in ("code_prefix", "code_suffix"):
        if not CODE_CHARS.match(getattr(rule, field) or ""):
            _err(e, field, "只能包含字母、数字和“-”")
    if not rule.total or rule.total < 1:
        _err(e, "total", "至少1张")
    if rule.start_value is None or rule.start_value < 0:
        _err(e, "start_value", "不能为负数")
    if not rule.numeric_length or not 1 <= rule.numeric_length <= 18:
        _err(e, "numeric_length", "必须在1到18位之间")
    if "total" not in e and "start_value" not in e and "numeric_length" not in e:
        _check_code_space(rule, e)
    if rule.benefit == Benefit.RECHARGE and not (
        rule.recharge_number_length
        and RECHARGE_MIN_LEN <= rule.recharge_number_length <= RECHARGE_MAX_LEN
    ):
        _err(e, "recharge_number_length", "充值券号长度必须为15-20位")


def _check_code_space(rule: CouponRule, e: dict) -> None:
    """Room for `total` codes: the end value fits the length (sequential), or the random code
    space is large enough that a guess rarely hits a live code (`assess_code_space`)."""
    if rule.code_mode == CodeMode.SEQUENTIAL:
        end = rule.start_value + rule.total - 1
        if len(str(end)) > rule.numeric_length:
            _err(
                e,
                "numeric_length",
                f"截止值{end}超出数值长度{rule.numeric_length}位，请加大数值长度或减少总张数",
            )
    elif rule.numeric_length < MIN_RANDOM_LENGTH:
        _err(e, "numeric_length", f"随机编码至少{MIN_RANDOM_LENGTH}位")
    else:
        verdict = assess_code_space(
            alphabet_size=len(UNAMBIGUOUS_ALPHABET),
            length=rule.numeric_length,
            quantity=rule.total,
        )
        if not verdict.ok:
            _err(e, "numeric_length", verdict.reason)


def _why_disabled(field: str) -> str:
    return {
        "claim_deadline": "仅电子普通券可设置",
        "sale_price": "仅电子普通券可设置",
        "transferable": "仅电子券可转赠",
        "u_value_price": "仅积分兑换券可设置",
        "face_value": "仅代金券、充值券可设置",
        "discount_rate": "仅折扣率券可设置",
        "exchange_product": "仅食品券可设置",
        "excluded_categories": "仅代金券、充值券可设置",
        "valid_until": "仅有效类型为有效期时可设置",
        "valid_days": "仅有效类型为有效天数时可设置",
        "recharge_number_length": "仅充值券可设置",
    }[field]


def clear_disabled_fields(rule: CouponRule) -> None:
    """Blank every field the rule's medium/kind/benefit disables; compute the end value."""
    for field, empty in EMPTY.items():
        if not is_enabled(rule, field):
            setattr(rule, field, list(empty) if isinstance(empty, list) else empty)
    if rule.total and rule.start_value is not None:
        rule.end_value = rule.start_value + rule.total - 1
