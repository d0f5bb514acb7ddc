from django import template

from couponhub.core.money import format_yuan

register = template.Library()


@register.filter
def yuan(value) -> str:
    """¥1,234.50: money as the pages show it (Decimal, two places, half-up)."""
    if value is None or value == "":
        return "—"
    return format_yuan(value)
