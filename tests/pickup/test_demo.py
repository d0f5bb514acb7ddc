import io

import pytest

from pickup import demo
from pickup.models import CardType, PickupCode

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_prints_a_code_to_try():
    out = io.StringIO()
    demo.seed(out)
    demo.seed(out)
    assert set(CardType.objects.values_list("name", flat=True)) == {"2388套餐", "3888套餐"}
    assert PickupCode.objects.count() == 50
    code = PickupCode.objects.first()
    assert f"/pickup/c/{code.code}/" in out.getvalue() or "try code" in out.getvalue()
