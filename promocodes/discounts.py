"""Promo-code discount arithmetic (SPEC.md §8), pure Python on Decimal, half-up to the fen.

On the eligible amount A (the items matching the code's restrictions, after promotions):

- percent d, floor L, cap U: usable when A ≥ L; discount = min(A·(1−d), U·(1−d)); L or U of 0
  means no limit.  Seed example: d = 80 %, L = 20, U = 55.55, A ≥ 55.55 → 11.11.
- direct amount D, floor L: usable when A ≥ L; discount = min(D, A).
- threshold T, amount D: usable when A ≥ T; discount = D (never more than A).

A rate is the share the customer still pays, in percent: 80 means "8折", 20 % off.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from couponhub.core.money import ZERO, to_money

PERCENT = "percent"
DIRECT = "direct"
THRESHOLD = "threshold"
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class DiscountRule:
    discount_type: str
    rate: Decimal | None = None  # percent: what the customer pays, 0 < rate < 100
    floor: Decimal = ZERO  # percent / direct: lowest eligible amount (0: none)
    cap: Decimal = ZERO  # percent: the eligible amount counts up to this (0: no cap)
    amount: Decimal = ZERO  # direct / threshold: the amount off
    threshold: Decimal = ZERO  # threshold: the eligible amount needed


@dataclass(frozen=True)
class Limits:
    """优惠力度设置."""

    min_discount_rate: Decimal  # percent: a rate below this is too generous
    max_direct_amount: Decimal
    max_threshold_ratio: Decimal  # amount / threshold


class BelowFloor(Exception):
    """The eligible amount is below what the code needs; `needed` is that amount."""

    def __init__(self, needed: Decimal):
        super().__init__(needed)
        self.needed = needed


def minimum_amount(rule: DiscountRule) -> Decimal:
    if rule.discount_type == THRESHOLD:
        return rule.threshold
    return rule.floor


def compute_discount(rule: DiscountRule, eligible: Decimal) -> Decimal:
    """The discount on `eligible`; BelowFloor when the code cannot be used on it."""
    eligible = to_money(eligible)
    if eligible < 0:
        raise ValueError("eligible amount must not be negative")
    needed = minimum_amount(rule)
    if needed > 0 and eligible < needed:
        raise BelowFloor(needed)
    if rule.discount_type == PERCENT:
        base = min(eligible, rule.cap) if rule.cap > 0 else eligible
        return to_money(base * (HUNDRED - rule.rate) / HUNDRED)
    if rule.discount_type == DIRECT:
        return to_money(min(rule.amount, eligible))
    if rule.discount_type == THRESHOLD:
        return to_money(min(rule.amount, eligible))
    raise ValueError(f"unknown discount type {rule.discount_type!r}")


def max_discount_per_use(rule: DiscountRule) -> Decimal | None:
    """The most one use can give; None when it has no bound (a percent code without a cap)."""
    if rule.discount_type == PERCENT:
        if rule.cap <= 0:
            return None
        return to_money(rule.cap * (HUNDRED - rule.rate) / HUNDRED)
    return to_money(rule.amount)


def worst_case_cost(rule: DiscountRule, *, max_uses: int, codes: int) -> Decimal | None:
    """Every code used its maximum number of times at its maximum discount; None: unbounded."""
    per_use = max_discount_per_use(rule)
    if per_use is None or max_uses == 0:
        return None
    return to_money(per_use * max_uses * codes)


def rule_errors(rule: DiscountRule) -> dict[str, str]:
    """Parameters that make no sense, by field name, in Chinese."""
    errors: dict[str, str] = {}
    for name in ("floor", "cap", "amount", "threshold"):
        if getattr(rule, name) < 0:
            errors[name] = "金额不能为负数"
    if rule.discount_type == PERCENT:
        if rule.rate is None:
            errors["rate"] = "请填写折扣比例"
        elif not (0 < rule.rate < HUNDRED):
            errors["rate"] = "折扣比例必须大于0且小于100"
        if rule.floor > 0 and rule.cap > 0 and rule.cap < rule.floor:
            errors["cap"] = "使用上限不能小于使用下限"
    elif rule.discount_type == DIRECT:
        if rule.amount <= 0:
            errors["amount"] = "直减金额必须大于0"
    elif rule.discount_type == THRESHOLD:
        if rule.threshold <= 0:
            errors["threshold"] = "满足金额必须大于0"
        if rule.amount <= 0:
            errors["amount"] = "优惠金额必须大于0"
        elif rule.threshold > 0 and rule.amount > rule.threshold:
            errors["amount"] = "优惠金额不能大于满足金额"
    else:
        errors["discount_type"] = "请选择优惠类型"
    return errors


def limit_errors(rule: DiscountRule, limits: Limits) -> dict[str, str]:
    """Where the rule is more generous than finance allows, by field name, in Chinese."""
    errors: dict[str, str] = {}
    if rule.discount_type == PERCENT and rule.rate is not None:
        if rule.rate < limits.min_discount_rate:
            errors["rate"] = (
                f"折扣比例{rule.rate.normalize():f}%低于财务设置的折扣下限"
                f"{limits.min_discount_rate.normalize():f}%"
            )
    elif rule.discount_type == DIRECT:
        if rule.amount > limits.max_direct_amount:
            errors["amount"] = (
                f"直减金额{to_money(rule.amount)}元超过财务设置的直减最大金额"
                f"{to_money(limits.max_direct_amount)}元"
            )
    elif (
        rule.discount_type == THRESHOLD
        and rule.threshold > 0
        and rule.amount / rule.threshold > limits.max_threshold_ratio
    ):
        errors["amount"] = (
            f"满减优惠比例{rule.amount / rule.threshold:.2%}超过财务设置的满减最大优惠比例"
            f"{limits.max_threshold_ratio:.2%}"
        )
    return errors


def describe(rule: DiscountRule) -> str:
    """The usage rule in one Chinese sentence, for the promotion page and exports."""
    if rule.discount_type == PERCENT:
        zhe = (rule.rate / 10).normalize()
        text = f"{zhe:f}折"
        if rule.floor > 0:
            text = f"满{to_money(rule.floor)}元可用，{text}"
        if rule.cap > 0:
            text += f"，最多优惠{max_discount_per_use(rule)}元"
        return text
    if rule.discount_type == DIRECT:
        text = f"立减{to_money(rule.amount)}元"
        return f"满{to_money(rule.floor)}元可用，{text}" if rule.floor > 0 else text
    return f"满{to_money(rule.threshold)}元减{to_money(rule.amount)}元"
