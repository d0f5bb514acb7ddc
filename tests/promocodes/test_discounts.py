from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from couponhub.core.money import to_money
from promocodes.discounts import (
    DIRECT,
    PERCENT,
    THRESHOLD,
    BelowFloor,
    DiscountRule,
    Limits,
    compute_discount,
    describe,
    limit_errors,
    max_discount_per_use,
    rule_errors,
    worst_case_cost,
)

D = Decimal
SEED = DiscountRule(PERCENT, rate=D("80"), floor=D("20"), cap=D("55.55"))


# --- the seed's example: 80 %, floor 20, cap 55.55 ---------------------------------------


@pytest.mark.parametrize("amount", ["55.55", "55.56", "100", "999999.99"])
def test_seed_example_gives_11_11_from_the_cap_up(amount):
    assert compute_discount(SEED, D(amount)) == D("11.11")


@pytest.mark.parametrize(
    ("amount", "expected"), [("20", "4.00"), ("33.33", "6.67"), ("55.54", "11.11"), ("50", "10.00")]
)
def test_seed_example_between_floor_and_cap_is_a_fifth_of_the_amount(amount, expected):
    assert compute_discount(SEED, D(amount)) == D(expected)


@pytest.mark.parametrize("amount", ["0", "0.01", "19.99"])
def test_seed_example_is_refused_below_20(amount):
    with pytest.raises(BelowFloor) as exc:
        compute_discount(SEED, D(amount))
    assert exc.value.needed == D("20")


def test_percent_without_floor_or_cap_has_no_limits():
    rule = DiscountRule(PERCENT, rate=D("90"))
    assert compute_discount(rule, D("1000")) == D("100.00")
    assert compute_discount(rule, D("0.05")) == D("0.01")  # 0.005 rounds half-up
    assert max_discount_per_use(rule) is None


def test_direct_gives_at_most_the_eligible_amount():
    rule = DiscountRule(DIRECT, amount=D("10"), floor=D("5"))
    assert compute_discount(rule, D("30")) == D("10.00")
    assert compute_discount(rule, D("6.50")) == D("6.50")
    with pytest.raises(BelowFloor):
        compute_discount(rule, D("4.99"))


def test_threshold_needs_the_threshold():
    rule = DiscountRule(THRESHOLD, threshold=D("100"), amount=D("20"))
    assert compute_discount(rule, D("100")) == D("20.00")
    assert compute_discount(rule, D("500")) == D("20.00")
    with pytest.raises(BelowFloor) as exc:
        compute_discount(rule, D("99.99"))
    assert exc.value.needed == D("100")


def test_worst_case_cost_multiplies_uses_and_codes():
    assert worst_case_cost(SEED, max_uses=10, codes=3) == D("333.30")
    assert worst_case_cost(SEED, max_uses=0, codes=3) is None


def test_rule_errors_name_the_field():
    assert "rate" in rule_errors(DiscountRule(PERCENT, rate=D("100")))
    assert "amount" in rule_errors(DiscountRule(THRESHOLD, threshold=D("10"), amount=D("20")))
    assert rule_errors(SEED) == {}


def test_limit_errors_refuse_what_is_too_generous():
    limits = Limits(D("50"), D("30"), D("0.3"))
    assert "低于" in limit_errors(DiscountRule(PERCENT, rate=D("40")), limits)["rate"]
    assert "超过" in limit_errors(DiscountRule(DIRECT, amount=D("31")), limits)["amount"]
    assert limit_errors(DiscountRule(THRESHOLD, threshold=D("100"), amount=D("31")), limits)
    assert not limit_errors(DiscountRule(THRESHOLD, threshold=D("100"), amount=D("30")), limits)


def test_describe_reads_like_the_printed_coupon():
    assert describe(SEED) == "满20.00元可用，8折，最多优惠11.11元"


# --- properties --------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=D("100000"), places=2, allow_nan=False)
positive_money = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
rates = st.decimals(min_value=D("0.01"), max_value=D("99.99"), places=2)
ratios = st.decimals(min_value=D("0.01"), max_value=D("1"), places=4)


@st.composite
def rules(draw):
    kind = draw(st.sampled_from([PERCENT, DIRECT, THRESHOLD]))
    if kind == PERCENT:
        return DiscountRule(kind, rate=draw(rates), floor=draw(money), cap=draw(money))
    if kind == DIRECT:
        return DiscountRule(kind, amount=draw(positive_money), floor=draw(money))
    threshold = draw(positive_money)
    amount = draw(st.decimals(min_value=D("0.01"), max_value=threshold, places=2))
    return DiscountRule(kind, threshold=threshold, amount=amount)


@given(rule=rules(), eligible=money)
def test_a_discount_is_never_negative_nor_above_the_eligible_amount(rule, eligible):
    try:
        discount = compute_discount(rule, eligible)
    except BelowFloor as exc:
        assert eligible < exc.needed
        return
    assert D(0) <= discount <= eligible
    assert discount == to_money(discount)
    per_use = max_discount_per_use(rule)
    assert per_use is None or discount <= per_use


@given(
    rule=rules(),
    eligible=money,
    min_rate=rates,
    max_direct=positive_money,
    max_ratio=ratios,
)
def test_a_rule_within_the_finance_limits_never_gives_more_than_they_allow(
    rule, eligible, min_rate, max_direct, max_ratio
):
    limits = Limits(min_rate, max_direct, max_ratio)
    if limit_errors(rule, limits):
        return
    try:
        discount = compute_discount(rule, eligible)
    except BelowFloor:
        return
    if rule.discount_type == PERCENT:
        assert discount <= to_money(eligible * (100 - min_rate) / 100)
    elif rule.discount_type == DIRECT:
        assert discount <= max_direct
    else:
        assert discount <= rule.threshold * max_ratio
