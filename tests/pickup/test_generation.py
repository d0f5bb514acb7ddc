import re

import pytest
from django.core.management import call_command
from django.db import connection

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry, Job
from pickup.models import CodeBatch, PickupCode
from pickup.services import GenerationSpec, batches, create_code_batch, fill_code_batch
from tests.pickup.factories import CardTypeFactory

pytestmark = pytest.mark.django_db


def test_it_generates_a_batch_in_a_background_job(django_capture_on_commit_callbacks):
    # given a card type
    card = CardTypeFactory()
    # when an operator asks for 1,200 codes (the job runs once the request commits)
    with django_capture_on_commit_callbacks(execute=True):
        batch = create_code_batch(
            actor=None,
            card_type=card,
            spec=GenerationSpec(quantity=1200, prefix="GC", code_length=10, code_format="mixed"),
        )
    # then the job succeeded with exactly 1,200 unique codes with consecutive serials
    job = Job.objects.get(pk=batch.job_id)
    assert job.status == Job.Status.SUCCEEDED and job.done == job.total == 1200
    codes = PickupCode.objects.filter(batch=batch)
    assert codes.count() == 1200
    serials = sorted(codes.values_list("serial", flat=True))
    assert serials == list(range(batch.serial_start, batch.serial_start + 1200))
    assert all(
        re.fullmatch(r"GC[2-9A-HJKMNP-Z]{10}", c) for c in codes.values_list("code", flat=True)
    )
    assert all(re.fullmatch(r"\d{8}", p) for p in codes.values_list("password", flat=True)[:50])
    assert AuditEntry.objects.filter(
        action="pickup.codebatch.create", object_id=str(batch.pk)
    ).exists()


def test_a_second_batch_takes_the_next_serials():
    card = CardTypeFactory()
    first = create_code_batch(
        actor=None, card_type=card, spec=GenerationSpec(quantity=5), background=False
    )
    second = create_code_batch(
        actor=None, card_type=card, spec=GenerationSpec(quantity=5), background=False
    )
    assert second.serial_start == first.serial_start + 5


def test_it_refuses_a_code_space_too_small_to_stay_hard_to_guess():
    card = CardTypeFactory()
    with pytest.raises(Refused, match="码空间"):
        create_code_batch(
            actor=None,
            card_type=card,
            spec=GenerationSpec(quantity=10_000, code_length=8, code_format="digits"),
        )
    assert CodeBatch.objects.count() == 0


def test_a_killed_worker_leaves_a_batch_that_a_rerun_completes_exactly(monkeypatch):
    # given a batch whose runner dies after two chunks of 100
    card = CardTypeFactory()
    batch = create_code_batch(
        actor=None, card_type=card, spec=GenerationSpec(quantity=550), background=False
    )
    calls = {"n": 0}
    real_insert = batches.store_codes

    def dying_insert(records):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real_insert(records)

    monkeypatch.setattr(batches, "store_codes", dying_insert)
    with pytest.raises(SystemExit):
        fill_code_batch(batch, chunk_size=100)
    assert PickupCode.objects.filter(batch=batch).count() == 200
    # when it is run again
    monkeypatch.setattr(batches, "store_codes", real_insert)
    fill_code_batch(batch, chunk_size=100)
    # then it holds exactly the requested codes, no gaps, no duplicates
    serials = sorted(PickupCode.objects.filter(batch=batch).values_list("serial", flat=True))
    assert serials == list(range(batch.serial_start, batch.serial_start + 550))


def test_colliding_codes_are_regenerated(monkeypatch):
    # given the generator first hands out a code that already exists
    card = CardTypeFactory()
    taken = create_code_batch(
        actor=None, card_type=card, spec=GenerationSpec(quantity=1, prefix="X"), background=False
    )
    fill_code_batch(taken)
    existing = PickupCode.objects.get(batch=taken).code[1:]
    batch = create_code_batch(
        actor=None, card_type=card, spec=GenerationSpec(quantity=3, prefix="X"), background=False
    )
    real = batches.random_strings
    handed = {"first": True}

    def fake(count, length, alphabet):
        if handed["first"] and length == 12:
            handed["first"] = False
            return [existing, *real(count - 1, length, alphabet)]
        return real(count, length, alphabet)

    monkeypatch.setattr(batches, "random_strings", fake)
    # when the batch is filled
    fill_code_batch(batch)
    # then it still ends with three new codes
    assert PickupCode.objects.filter(batch=batch).count() == 3
    assert PickupCode.objects.filter(code="X" + existing).count() == 1


def test_the_command_line_generates_and_prints_the_batch(capsys):
    card = CardTypeFactory()
    call_command(
        "generate_pickup_codes",
        "--card-type",
        str(card.pk),
        "--quantity",
        "30",
        "--prefix",
        "cl",
        "--code-format",
        "letters",
        "--password-length",
        "6",
    )
    out = capsys.readouterr().out
    batch = CodeBatch.objects.get()
    assert f"batch {batch.pk}" in out and "30/30" in out
    assert PickupCode.objects.filter(batch=batch, code__startswith="CL").count() == 30


def test_the_password_column_holds_no_plaintext():
    card = CardTypeFactory()
    batch = create_code_batch(
        actor=None, card_type=card, spec=GenerationSpec(quantity=3), background=False
    )
    fill_code_batch(batch)
    code = PickupCode.objects.filter(batch=batch).first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM pickup_pickupcode WHERE serial = %s", [code.pk])
        assert code.password not in cursor.fetchone()[0]


def test_an_error_while_storing_is_not_swallowed(monkeypatch):
    import psycopg

    # given a store that PostgreSQL stops
    def broken(records):
        raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")

    monkeypatch.setattr(batches, "store_codes", broken)
    batch = create_code_batch(
        actor=None, card_type=CardTypeFactory(), spec=GenerationSpec(quantity=10), background=False
    )
    # when the batch is filled, then the error reaches the caller and nothing is stored
    with pytest.raises(psycopg.errors.QueryCanceled):
        fill_code_batch(batch)
    assert not PickupCode.objects.filter(batch=batch).exists()


@pytest.mark.django_db(transaction=True)
def test_a_large_batch_refreshes_the_planner_statistics(monkeypatch):
    def last_analyze():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'pickup_pickupcode'"
            )
            return cursor.fetchone()[0]

    # given a batch at the size from which statistics are refreshed
    monkeypatch.setattr(batches, "ANALYZE_AFTER", 300)
    batch = create_code_batch(
        actor=None, card_type=CardTypeFactory(), spec=GenerationSpec(quantity=300), background=False
    )
    before = last_analyze()
    # when it is filled (outside a transaction, as a job does)
    fill_code_batch(batch, chunk_size=100)
    # then the table was analysed (by hand: autovacuum's own runs are counted apart)
    after = last_analyze()
    assert after is not None and (before is None or after > before)
