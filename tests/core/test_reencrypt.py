import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from api.models import ApiClient
from couponhub.core.models import AuditEntry
from couponhub.core.reencryption import reencrypt_secrets
from pickup.models import PickupCode
from tests.api.factories import ApiClientFactory
from tests.pickup.factories import PickupCodeFactory

pytestmark = pytest.mark.django_db


def _stored(model, pk, column):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s", [pk]
        )
        return cursor.fetchone()[0]


def test_after_a_rotation_every_secret_moves_to_the_new_key_and_reads_the_same(settings, capsys):
    # given secrets under the old key, and one password stored as a Fernet token long ago
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    client = ApiClientFactory(secret="s3cret-of-the-pos")
    codes = [PickupCodeFactory(password=f"pw{i:06d}") for i in range(7)]
    with connection.cursor() as cursor:
        legacy = Fernet(old_key.encode()).encrypt(b"legacy-1").decode()
        cursor.execute(
            "UPDATE pickup_pickupcode SET password = %s WHERE serial = %s", [legacy, codes[0].pk]
        )
    # when a new key is put first and the command runs (a dry run first)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    before = _stored(PickupCode, codes[1].pk, "password")
    call_command("reencrypt_secrets", "--dry-run")
    assert "pickup.PickupCode.password: 7 to rewrite" in capsys.readouterr().out
    assert _stored(PickupCode, codes[1].pk, "password") == before
    counts = reencrypt_secrets(chunk_size=3)
    # then everything was rewritten, and reads back the same with the old key gone
    assert counts["pickup.PickupCode.password"] == {"rewritten": 7, "unreadable": 0}
    assert counts["api.ApiClient.secret"]["rewritten"] == 1
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert ApiClient.objects.get(pk=client.pk).secret == "s3cret-of-the-pos"
    passwords = dict(PickupCode.objects.values_list("serial", "password"))
    assert passwords[codes[0].pk] == "legacy-1"
    assert [passwords[c.pk] for c in codes[1:]] == [f"pw{i:06d}" for i in range(1, 7)]
    assert AuditEntry.objects.filter(action="core.secrets.reencrypt").count() == 2
    # and a second run finds nothing left to do
    assert {c["rewritten"] for c in reencrypt_secrets().values()} == {0}


def test_a_damaged_value_is_reported_and_the_others_still_move(settings, capsys):
    codes = [PickupCodeFactory(password=f"pw{i}") for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE pickup_pickupcode SET password = %s WHERE serial = %s", ["c1dead", codes[1].pk]
        )
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    call_command("reencrypt_secrets")
    err = capsys.readouterr().err
    assert "pickup.PickupCode.password: 1 no configured key opens" in err
    assert _stored(PickupCode, codes[1].pk, "password") == "c1dead"
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]
    assert PickupCode.objects.get(pk=codes[0].pk).password == "pw0"
    assert PickupCode.objects.get(pk=codes[2].pk).password == "pw2"
