"""The header search over promo codes: a code opens its application, within the user's scope."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from couponhub.core.global_search import Hit
from couponhub.core.permissions import has_perm, scope_q
from promocodes.models import PromoCode


def promo_codes(user, q: str) -> list[Hit]:
    if not has_perm(user, "promocodes.view"):
        return []
    code = (
        PromoCode.objects.filter(Q(code=q) | Q(code=q.upper()))
        .filter(scope_q(user, "promocodes.view", "application__org"))
        .select_related("application")
        .first()
    )
    if code is None:
        return []
    return [
        Hit(
            _("promo code"),
            code.code,
            reverse("promocodes:detail", args=[code.application_id]),
            str(code.application),
        )
    ]


PROVIDERS = [promo_codes]
