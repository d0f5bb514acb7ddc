"""Coupon code generators and code-space checks.

Plain Python (no Django). Randomness always comes from :mod:`secrets`.
User-facing error messages are in Simplified Chinese.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from couponhub.core.errors import Refused

__all__ = [
    "DIGITS",
    "LETTERS",
    "MIXED",
    "UNAMBIGUOUS_ALPHABET",
    "CodeSpaceTooSmall",
    "CodeSpaceVerdict",
    "assess_code_space",
    "check_character",
    "ensure_code_space",
    "is_valid_code",
    "random_code",
    "random_digits_number",
    "random_string",
    "random_strings",
    "sequential_code",
    "sequential_codes",
]

# 31 symbols (a prime): digits and upper-case letters without 0/O/1/I/L.
UNAMBIGUOUS_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DIGITS = "0123456789"
# Upper-case A-Z without I and O (24 letters).
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# Digits + letters without 0/O/1/I/L: the unambiguous alphabet.
MIXED = UNAMBIGUOUS_ALPHABET


# ---------------------------------------------------------------------------
# Sequential codes
# ---------------------------------------------------------------------------


def _check_sequential_args(number: int, width: int) -> None:
    if width < 1:
        raise ValueError(f"编号宽度必须至少为1位（当前为{width}）")
    if number < 0:
        raise ValueError(f"编号不能为负数（当前为{number}）")
    if len(str(number)) > width:
        raise ValueError(f"编号{number}超出{width}位宽度，请加大编号宽度")


def sequential_code(*, prefix: str, number: int, width: int, suffix: str = "") -> str:
    """Return ``prefix + zero-padded number + suffix``, e.g. ``VIP000042``."""
    _check_sequential_args(number, width)
    return f"{prefix}{number:0{width}d}{suffix}"


def sequential_codes(
    *, prefix: str, start: int, count: int, width: int, suffix: str = ""
) -> Iterator[str]:
    """Yield ``count`` sequential codes starting at ``start``.

    The whole range is validated before the first code is produced, so a
    range that would overflow ``width`` fails immediately.
    """
    if count < 0:
        raise ValueError(f"生成数量不能为负数（当前为{count}）")
    _check_sequential_args(start, width)
    if count:
        _check_sequential_args(start + count - 1, width)
    return (f"{prefix}{number:0{width}d}{suffix}" for number in range(start, start + count))


# ---------------------------------------------------------------------------
# Random codes with a check character
# ---------------------------------------------------------------------------


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def _validate_alphabet(alphabet: str) -> None:
    if len(set(alphabet)) != len(alphabet):
        raise ValueError("字符集中存在重复字符")
    if not _is_prime(len(alphabet)):
        raise ValueError(f"校验位字符集的长度必须为质数（当前为{len(alphabet)}）")


def _weighted_sum(values: list[int]) -> int:
    return sum(weight * value for weight, value in enumerate(values, start=1))


def check_character(body: str, alphabet: str = UNAMBIGUOUS_ALPHABET) -> str:
    """Return the check character for ``body``.

    The full code is ``body + check``; positions are weighted 1..n+1 and the
    check value c is chosen so that the weighted sum of the full code is 0 mod p.
    """
    # Why every error is caught (p = len(alphabet) is prime, code length n+1 < p):
    # substituting a symbol at position i changes the sum by i*d with 0 < i < p and
    # d != 0 mod p, so the change is non-zero mod p; swapping adjacent different
    # symbols a, b at positions i, i+1 changes it by i*b + (i+1)*a - i*a - (i+1)*b
    # = a - b != 0 mod p. Both hold for the check character too, because it is
    # simply position n+1 of the same weighted sum.
    _validate_alphabet(alphabet)
    p = len(alphabet)
    if not body:
        raise ValueError("券码主体不能为空")
    if len(body) > p - 2:
        raise ValueError(f"券码主体最长为{p - 2}位（当前为{len(body)}位）")
    index = {symbol: i for i, symbol in enumerate(alphabet)}
    try:
        values = [index[ch] for ch in body]
    except KeyError as exc:
        raise ValueError(f"券码包含字符集以外的字符：{exc.args[0]!r}") from None
    n_plus_1 = len(body) + 1
    check = (-_weighted_sum(values) * pow(n_plus_1, -1, p)) % p
    return alphabet[check]


def random_string(length: int, alphabet: str) -> str:
    """Return ``length`` symbols drawn uniformly from ``alphabet`` via :mod:`secrets`."""
    if length < 0:
        raise ValueError(f"长度不能为负数（当前为{length}）")
    if not alphabet:
        raise ValueError("字符集不能为空")
    return "".join(secrets.choice(alphabet) for _ in range(length))


def random_strings(count: int, length: int, alphabet: str) -> list[str]:
    """Return ``count`` strings of ``length`` symbols drawn uniformly from ``alphabet``.

    Same distribution as :func:`random_string`, but for large batches: random bytes from
    :mod:`secrets` are mapped to symbols with rejection sampling (bytes at or above the largest
    multiple of ``len(alphabet)`` are dropped, so every symbol is equally likely), in C.
    """
    if count < 0 or length < 0:
        raise ValueError(f"数量和长度不能为负数（当前为{count}、{length}）")
    n = len(alphabet)
    if not 1 <= n <= 256 or len(set(alphabet)) != n:
        raise ValueError("字符集必须为1～256个不重复字符")
    if not alphabet.isascii():
        raise ValueError("字符集只能包含ASCII字符")
    limit = 256 - 256 % n
    table = bytes(ord(alphabet[b % n]) if b < limit else 0 for b in range(256))
    rejected = bytes(range(limit, 256))
    needed = count * length
    symbols = b""
    while len(symbols) < needed:
        want = needed - len(symbols)
        raw = secrets.token_bytes(want * 256 // limit + 64)
        symbols += raw.translate(table, rejected)
    text = symbols[:needed].decode("ascii")
    return [text[i : i + length] for i in range(0, needed, length)]


def random_code(
    *,
    length: int,
    prefix: str = "",
    alphabet: str = UNAMBIGUOUS_ALPHABET,
    with_check: bool = True,
) -> str:
    """Return ``prefix + length random symbols (+ check character)``."""
    if length < 1:
        raise ValueError(f"券码长度必须至少为1位（当前为{length}）")
    body = random_string(length, alphabet)
    if not with_check:
        return f"{prefix}{body}"
    return f"{prefix}{body}{check_character(body, alphabet)}"


def is_valid_code(code: str, *, prefix: str = "", alphabet: str = UNAMBIGUOUS_ALPHABET) -> bool:
    """True if ``code`` is ``prefix + body + correct check character``.

    Matching is exact (case-sensitive); normalise user input before calling.
    Never raises for malformed input.
    """
    _validate_alphabet(alphabet)
    if not isinstance(code, str) or not code.startswith(prefix):
        return False
    rest = code[len(prefix) :]
    p = len(alphabet)
    if not 2 <= len(rest) <= p - 1:
        return False
    index = {symbol: i for i, symbol in enumerate(alphabet)}
    if any(ch not in index for ch in rest):
        return False
    return _weighted_sum([index[ch] for ch in rest]) % p == 0


def random_digits_number(min_len: int = 15, max_len: int = 20) -> str:
    """Random all-digit number (e.g. recharge coupons); first digit is never 0."""
    if min_len < 1 or max_len < min_len:
        raise ValueError(f"位数范围无效：{min_len}～{max_len}")
    length = min_len + secrets.randbelow(max_len - min_len + 1)
    return secrets.choice("123456789") + random_string(length - 1, DIGITS)


# ---------------------------------------------------------------------------
# Code-space assessment
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeSpaceVerdict:
    ok: bool
    space: int
    reason: str


class CodeSpaceTooSmall(Refused):
    """Raised by :func:`ensure_code_space`; ``str(exc)`` / ``exc.reason`` is Chinese."""

    def __init__(self, reason: str, verdict: CodeSpaceVerdict | None = None):
        super().__init__("code_space_too_small", reason)
        self.reason = reason
        self.verdict = verdict


def _cn_count(n: int) -> str:
    """Human-readable Chinese magnitude: 100000 -> '10万', 250000000 -> '2.5亿'."""
    for unit_value, unit in ((10**8, "亿"), (10**4, "万")):
        if n >= unit_value:
            whole, rest = divmod(n, unit_value)
            tenth = rest * 10 // unit_value
            return f"{whole:,}{'.' + str(tenth) if tenth else ''}{unit}"
    return f"{n:,}"


def _alphabet_label(alphabet_size: int) -> str:
    if alphabet_size == 10:
        return "纯数字"
    if alphabet_size in (24, 26):
        return "纯字母"
    return f"（{alphabet_size}种字符）"


def assess_code_space(
    *,
    alphabet_size: int,
    length: int,
    quantity: int,
    existing: int = 0,
    min_guesses_per_hit: int = 1_000_000,
) -> CodeSpaceVerdict:
    """Decide whether ``quantity`` more random codes may be issued.

    Refused when ``space / (existing + quantity) < min_guesses_per_hit``: a random
    guess would then hit a live code more often than once per
    ``min_guesses_per_hit`` tries.
    """
    if alphabet_size < 2:
        raise ValueError(f"字符集至少需要2种字符（当前为{alphabet_size}）")
    if length < 1:
        raise ValueError(f"码长必须至少为1位（当前为{length}）")
    if existing < 0:
        raise ValueError(f"已有券码数量不能为负数（当前为{existing}）")
    space = alphabet_size**length
    label = f"码长{length}位{_alphabet_label(alphabet_size)}的码空间为{space:,}"
    if quantity <= 0:
        return CodeSpaceVerdict(False, space, f"发放数量必须大于0（当前为{quantity}）")
    total = existing + quantity
    if total > space:
        held = f"（已有{existing:,}个）" if existing else ""
        return CodeSpaceVerdict(
            False, space, f"{label}，不足以容纳{total:,}个券码{held}；请加长码长或改用更大的字符集"
        )
    guesses = space // total
    issued = (
        f"已有{existing:,}个有效码，再发放{quantity:,}个" if existing else f"发放{quantity:,}个"
    )
    if space < min_guesses_per_hit * total:
        needed = length
        while alphabet_size**needed < min_guesses_per_hit * total:
            needed += 1
        advice = (
            "请加长码长或改用字母数字混合"
            if alphabet_size <= 10
            else "请加长码长或改用更大的字符集"
        )
        reason = (
            f"{label}，{issued}后平均每{_cn_count(guesses)}次猜测即可命中一个有效码，"
            f"低于安全下限（每{min_guesses_per_hit:,}次猜测最多命中一次）；"
            f"{advice}（当前字符集下至少需要{needed}位）"
        )
        return CodeSpaceVerdict(False, space, reason)
    return CodeSpaceVerdict(
        True, space, f"{label}，{issued}后平均每{_cn_count(guesses)}次猜测才命中一个有效码"
    )


def ensure_code_space(
    *,
    alphabet_size: int,
    length: int,
    quantity: int,
    existing: int = 0,
    min_guesses_per_hit: int = 1_000_000,
) -> CodeSpaceVerdict:
    """Like :func:`assess_code_space` but raises :class:`CodeSpaceTooSmall` if refused."""
    verdict = assess_code_space(
        alphabet_size=alphabet_size,
        length=length,
        quantity=quantity,
        existing=existing,
        min_guesses_per_hit=min_guesses_per_hit,
    )
    if not verdict.ok:
        raise CodeSpaceTooSmall(verdict.reason, verdict)
    return verdict
