"""One search box in the header: a coupon code, recharge number, pickup code, promo code, order
number, redemption number, outside consumption number or a member's phone/card finds the thing.

Each app that owns such numbers lists `PROVIDERS` in its own `search.py` (found like nav.py): a
provider takes the user and the typed text and returns the hits the user may open — checked
against the user's permission and scope inside the provider, so a number outside them is exactly
as absent as a number that does not exist.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from couponhub.core.discovery import app_modules

QUERY_RE = re.compile(r"^[0-9A-Za-z:_\-]{3,40}$")


@dataclass(frozen=True)
class Hit:
    kind: str  # what was found: 优惠券, 会员…
    title: str
    url: str = ""
    detail: str = ""


@cache
def providers() -> tuple[Callable, ...]:
    return tuple(p for module in app_modules("search") for p in module.PROVIDERS)


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def search(user, text: str) -> list[Hit]:
    q = normalise(text)
    if not QUERY_RE.match(q):
        return []
    hits: list[Hit] = []
    for provider in providers():
        for hit in provider(user, q):
            if hit not in hits:
                hits.append(hit)
    return hits
