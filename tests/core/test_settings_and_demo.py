import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command

from couponhub.core.models import Org, RoleAssignment, User

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "p" * 20 + "-Zq8#kL0vX2!mN4@rT6$yU1%wE3^aS5&dF7*gH9",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "coupons.example.com",
    "DATABASE_URL": "postgres://couponhub@db.example.com:5432/couponhub",
}


def _manage(*args, env):
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a production check.
    dropped = {*PRODUCTION_ENV, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS", "DATABASE_URL"]
)
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_ENV=production" in result.stderr


def test_seed_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")


@pytest.mark.django_db
def test_seed_demo_builds_the_chain_and_is_idempotent(capsys):
    call_command("seed_demo")
    counts = (Org.objects.count(), User.objects.count(), RoleAssignment.objects.count())
    call_command("seed_demo")
    assert (Org.objects.count(), User.objects.count(), RoleAssignment.objects.count()) == counts
    assert Org.objects.filter(kind=Org.Kind.STORE).count() >= 4
    assert Org.objects.filter(kind=Org.Kind.REGION).count() >= 2
    roles = dict(RoleAssignment.objects.values_list("user__username", "role"))
    assert {
        "admin": "admin",
        "clerk": "clerk",
        "clerk2": "clerk",
        "manager": "store_manager",
        "operator": "operator",
        "finance": "finance",
        "hq": "hq",
    }.items() <= roles.items()
    clerk2_stores = set(
        RoleAssignment.objects.filter(user__username="clerk2").values_list("org__code", flat=True)
    )
    assert "380" not in clerk2_stores
    out = capsys.readouterr().out
    assert "clerk2" in out and "CouponHub-2026" in out
