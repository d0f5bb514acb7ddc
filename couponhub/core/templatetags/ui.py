"""Tags of the page frame (templates/base.html): icons and the breadcrumb's last step."""

import re
from functools import cache

from django import template
from django.conf import settings
from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

register = template.Library()

ICON_NAME = re.compile(r"^[a-z0-9-]+$")


@cache
def _svg(name: str) -> str:
    """Lucide's own SVG (npm package lucide-static, installed by `make install`), without its
    licence comment, marked decorative: the link or button next to it carries the words."""
    if not ICON_NAME.match(name):
        raise ValueError(f"not an icon name: {name!r}")
    path = settings.NODE_MODULES / "lucide-static" / "icons" / f"{name}.svg"
    svg = path.read_text(encoding="utf-8")
    svg = svg[svg.index("<svg") :].strip()
    return svg.replace("<svg", '<svg aria-hidden="true" focusable="false"', 1)


@register.simple_tag
def icon(name: str):
    """{% icon "ticket" %}: the icon inline, drawn in the text colour (stroke="currentColor")."""
    return mark_safe(_svg(name)) if name else ""


@register.simple_tag(takes_context=True)
def page_title(context) -> str:
    """The text of the page's {% block title %}, for the breadcrumb's last step (a page that is
    not itself in the menu: a detail, a form)."""
    blocks = context.render_context.get(BLOCK_CONTEXT_KEY)
    block = blocks.get_block("title") if blocks else None
    if block is None:
        return ""
    return strip_tags(block.nodelist.render(context)).strip()
