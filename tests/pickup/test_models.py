import pytest
from django.db import IntegrityError, connection

from pickup.models import PickupCode, PickupSettings
from tests.pickup.factories import CodeBatchFactory, PickupCodeFactory

pytestmark = pytest.mark.django_db


def test_it_keeps_passwords_encrypted_at_rest():
    # given a code with a password
    code = PickupCodeFactory(password="12345678")
    # when the raw column is read
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM pickup_pickupcode WHERE serial = %s", [code.pk])
        raw = cursor.fetchone()[0]
    # then it is a token, and the model hands out the plaintext
    assert "12345678" not in raw
    assert PickupCode.objects.get(pk=code.pk).password == "12345678"


def test_it_refuses_duplicate_codes():
    batch = CodeBatchFactory()
    PickupCodeFactory(batch=batch, code="DUP123456789")
    with pytest.raises(IntegrityError):
        PickupCodeFactory(batch=batch, code="DUP123456789")


def test_settings_is_a_single_row():
    assert PickupSettings.load().pk == PickupSettings.load().pk == 1
