"""Money is CNY as Decimal with two places, rounded half-up to the fen."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(value) -> str:
    return f"¥{to_money(value):,.2f}"


class MoneyField(models.DecimalField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)
