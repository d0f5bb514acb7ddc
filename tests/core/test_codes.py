import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from couponhub.core import codes
from couponhub.core.codes import (
    DIGITS,
    LETTERS,
    MIXED,
    UNAMBIGUOUS_ALPHABET,
    CodeSpaceTooSmall,
    assess_code_space,
    check_character,
    ensure_code_space,
    is_valid_code,
    random_code,
    random_digits_number,
    random_string,
    sequential_code,
    sequential_codes,
)
from couponhub.core.errors import Refused

P = len(UNAMBIGUOUS_ALPHABET)


def test_alphabets():
    assert P == 31
    assert not set("0O1IL") & set(UNAMBIGUOUS_ALPHABET)
    assert len(set(UNAMBIGUOUS_ALPHABET)) == P
    assert DIGITS == "0123456789"
    assert LETTERS == "ABCDEFGHJKLMNPQRSTUVWXYZ"
    assert MIXED == UNAMBIGUOUS_ALPHABET


# --- sequential --------------------------------------------------------------


def test_sequential_code_padding():
    assert sequential_code(prefix="VIP", number=42, width=6) == "VIP000042"
    assert sequential_code(prefix="", number=0, width=1, suffix="X") == "0X"
    assert sequential_code(prefix="A", number=999, width=3) == "A999"


def test_sequential_code_overflow_is_chinese_error():
    with pytest.raises(ValueError, match="超出3位宽度"):
        sequential_code(prefix="A", number=1000, width=3)
    with pytest.raises(ValueError, match="负数"):
        sequential_code(prefix="A", number=-1, width=3)


def test_sequential_codes_range():
    assert list(sequential_codes(prefix="Q", start=98, count=3, width=3, suffix="-Z")) == [
        "Q098-Z",
        "Q099-Z",
        "Q100-Z",
    ]
    assert list(sequential_codes(prefix="Q", start=5, count=0, width=1)) == []


def test_sequential_codes_fail_eagerly_on_overflow():
    with pytest.raises(ValueError, match="超出2位宽度"):
        sequential_codes(prefix="Q", start=98, count=3, width=2)


# --- check character ---------------------------------------------------------

bodies = st.text(alphabet=UNAMBIGUOUS_ALPHABET, min_size=1, max_size=P - 2)


@settings(max_examples=60, deadline=None)
@given(bodies)
def test_every_single_substitution_is_detected(body):
    code = body + check_character(body)
    assert is_valid_code(code)
    for i, original in enumerate(code):
        for replacement in UNAMBIGUOUS_ALPHABET:
            if replacement != original:
                assert not is_valid_code(code[:i] + replacement + code[i + 1 :]), (code, i)


@settings(max_examples=200, deadline=None)
@given(bodies)
def test_every_adjacent_swap_is_detected(body):
    code = body + check_character(body)
    for i in range(len(code) - 1):
        a, b = code[i], code[i + 1]
        if a != b:
            swapped = code[:i] + b + a + code[i + 2 :]
            assert not is_valid_code(swapped), (code, i)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=P - 2), st.text(max_size=5))
def test_random_code_format(length, prefix):
    code = random_code(length=length, prefix=prefix)
    assert code.startswith(prefix)
    rest = code[len(prefix) :]
    assert len(rest) == length + 1
    assert set(rest) <= set(UNAMBIGUOUS_ALPHABET)
    assert is_valid_code(code, prefix=prefix)


def test_random_code_without_check():
    code = random_code(length=12, prefix="X-", with_check=False)
    assert re.fullmatch(r"X-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}", code)


def test_random_codes_are_unique():
    generated = {random_code(length=10) for _ in range(20_000)}
    assert len(generated) == 20_000


def test_other_prime_alphabet():
    alphabet = "ABCDEFG"  # 7 symbols
    body = "GAB"
    code = body + check_character(body, alphabet)
    assert is_valid_code(code, alphabet=alphabet)
    with pytest.raises(ValueError, match="质数"):
        check_character("123", DIGITS)


def test_check_character_rejects_bad_bodies():
    with pytest.raises(ValueError, match="字符集以外"):
        check_character("AB0")
    with pytest.raises(ValueError, match="最长为29位"):
        check_character("A" * (P - 1))
    with pytest.raises(ValueError, match="不能为空"):
        check_character("")
    check_character("A" * (P - 2))  # longest allowed body


@pytest.mark.parametrize(
    "value",
    ["", "A", "VIPABC", None, 12345, "abcd", "AB0C", "A" * 40],
)
def test_is_valid_code_never_raises(value):
    assert is_valid_code(value, prefix="VIP") is False


def test_is_valid_code_requires_prefix():
    code = random_code(length=8, prefix="VIP")
    assert is_valid_code(code, prefix="VIP")
    assert not is_valid_code(code[3:], prefix="VIP")
    assert not is_valid_code("XYZ" + code[3:], prefix="VIP")


def test_random_string_and_digits_number():
    assert random_string(0, DIGITS) == ""
    assert set(random_string(200, "AB")) <= {"A", "B"}
    seen_lengths = set()
    for _ in range(500):
        number = random_digits_number()
        assert number.isdigit() and number[0] != "0"
        assert 15 <= len(number) <= 20
        seen_lengths.add(len(number))
    assert seen_lengths == set(range(15, 21))
    assert len(random_digits_number(1, 1)) == 1
    with pytest.raises(ValueError):
        random_digits_number(10, 5)


def test_uses_secrets_module():
    assert codes.secrets.__name__ == "secrets"


# --- code space --------------------------------------------------------------


def test_space_example_message():
    verdict = assess_code_space(alphabet_size=10, length=8, quantity=1000)
    assert not verdict.ok
    assert verdict.space == 100_000_000
    assert verdict.reason.startswith(
        "码长8位纯数字的码空间为100,000,000，发放1,000个后平均每10万次猜测即可命中一个有效码，"
        "低于安全下限（每1,000,000次猜测最多命中一次）；请加长码长或改用字母数字混合"
    )


def test_space_boundary():
    # 10**8 / 100 == 10**6 exactly: allowed; one more code tips it over.
    assert assess_code_space(alphabet_size=10, length=8, quantity=100).ok
    assert not assess_code_space(alphabet_size=10, length=8, quantity=101).ok
    assert assess_code_space(alphabet_size=10, length=8, quantity=60, existing=40).ok
    refused = assess_code_space(alphabet_size=10, length=8, quantity=61, existing=40)
    assert not refused.ok and "已有40个有效码" in refused.reason


@given(
    st.integers(min_value=2, max_value=62),
    st.integers(min_value=1, max_value=16),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
)
def test_space_verdict_matches_definition(size, length, quantity, existing):
    verdict = assess_code_space(
        alphabet_size=size, length=length, quantity=quantity, existing=existing
    )
    space = size**length
    assert verdict.space == space
    total = existing + quantity
    # "space / total >= one million", evaluated exactly with integers
    expected = total <= space and space >= 1_000_000 * total
    assert verdict.ok == expected
    assert verdict.reason


def test_space_refuses_bad_quantities():
    assert not assess_code_space(alphabet_size=31, length=10, quantity=0).ok
    assert "大于0" in assess_code_space(alphabet_size=31, length=10, quantity=-5).reason
    too_many = assess_code_space(alphabet_size=10, length=2, quantity=101, min_guesses_per_hit=0)
    assert not too_many.ok and "不足以容纳" in too_many.reason
    assert assess_code_space(alphabet_size=10, length=2, quantity=100, min_guesses_per_hit=1).ok


def test_space_advice_for_larger_alphabets():
    verdict = assess_code_space(alphabet_size=31, length=4, quantity=10)
    assert not verdict.ok and "更大的字符集" in verdict.reason


def test_ensure_code_space():
    assert ensure_code_space(alphabet_size=31, length=12, quantity=1_000_000).ok
    with pytest.raises(CodeSpaceTooSmall) as info:
        ensure_code_space(alphabet_size=10, length=8, quantity=1000)
    assert isinstance(info.value, Refused)
    assert info.value.reason == str(info.value)
    assert "码空间为100,000,000" in info.value.reason


def test_random_strings_draw_every_symbol_of_the_alphabet_evenly():
    from collections import Counter

    from couponhub.core.codes import DIGITS, MIXED, random_strings

    values = random_strings(20_000, 10, DIGITS)
    assert len(values) == 20_000
    assert all(len(v) == 10 and v.isdigit() for v in values)
    counts = Counter("".join(values))
    assert set(counts) == set(DIGITS)
    # 200,000 symbols over 10 digits: each within 5 % of 20,000
    assert all(19_000 < c < 21_000 for c in counts.values())
    mixed = random_strings(1000, 8, MIXED)
    assert set("".join(mixed)) <= set(MIXED)
    assert random_strings(0, 8, MIXED) == []
