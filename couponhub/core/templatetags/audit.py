from django import template

from couponhub.core import audit

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    """{{ entry.action|action_label }}: 新建提货订单, not pickup.order.create."""
    return audit.action_label(code)


@register.filter
def object_type_label(object_type: str) -> str:
    return audit.object_type_label(object_type)
