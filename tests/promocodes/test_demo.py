import io
from decimal import Decimal

import pytest

from couponhub.core import demo as core_demo
from promocodes import demo
from promocodes.models import PromoCode, PromoCodeApplication
from promocodes.services import Checkout, Item, validate_promo_code

pytestmark = pytest.mark.django_db


def test_seed_adds_every_status_and_an_active_demo80_and_is_idempotent():
    out = io.StringIO()
    core_demo.seed(out)
    demo.seed(out)
    demo.seed(out)
    statuses = {a.display_status() for a in PromoCodeApplication.objects.all()}
    assert statuses == set(PromoCodeApplication.DisplayStatus.values)
    assert PromoCode.objects.filter(code="DEMO80").count() == 1
    quote = validate_promo_code(
        checkout=Checkout(
            code="DEMO80",
            user_id="u",
            platform="app",
            delivery="delivery",
            items=(Item(sku="A", amount=Decimal("100")),),
        )
    )
    assert quote.discount == Decimal("11.11")
