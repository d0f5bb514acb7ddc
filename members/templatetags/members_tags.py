from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings

register = template.Library()

CAP = 99999


@register.filter
def cap_count(value) -> str:
    """Large counts show as 99999+, as the seed's tabs do."""
    try:
        n = int(value or 0)
    except (TypeError, ValueError):
        return "0"
    return f"{CAP}+" if n > CAP else str(n)


@register.filter
def u_to_yuan(u_value) -> str:
    """U-value in yuan (settings.U_VALUE_PER_YUAN U = ¥1), to the fen."""
    if u_value in (None, ""):
        return ""
    yuan = (Decimal(int(u_value)) / Decimal(settings.U_VALUE_PER_YUAN)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return f"¥{yuan:,.2f}"


@register.filter
def yuan_plain(value) -> str:
    d = Decimal(value or 0)
    return f"{d.normalize():f}" if d == d.to_integral() else f"{d:.2f}"
