import threading
from itertools import pairwise

import pytest
from django.db import connection

from pickup.models import CodeBatch, PickupCode
from pickup.services import GenerationSpec, create_code_batch, fill_code_batch
from tests.pickup.factories import CardTypeFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_get_disjoint_serials_and_unique_codes():
    # given one card type and six operators generating at the same moment
    card = CardTypeFactory()
    errors = []
    barrier = threading.Barrier(6)

    def generate():
        try:
            barrier.wait()
            batch = create_code_batch(
                actor=None,
                card_type=card,
                spec=GenerationSpec(quantity=700, prefix="CC", code_length=10),
                background=False,
            )
            fill_code_batch(batch, chunk_size=250)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=generate) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every batch holds exactly its serial range, with no overlap and no duplicate code
    assert errors == []
    ranges = sorted((b.serial_start, b.serial_end) for b in CodeBatch.objects.all())
    assert len(ranges) == 6
    assert all(a_end < b_start for (_s, a_end), (b_start, _e) in pairwise(ranges))
    assert PickupCode.objects.count() == 4200
    assert PickupCode.objects.values("code").distinct().count() == 4200


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_fill_stops_its_helper_and_a_rerun_completes_it():
    # given a batch filled outside a transaction (each chunk committed on its own)
    batch = create_code_batch(
        actor=None,
        card_type=CardTypeFactory(),
        spec=GenerationSpec(quantity=4000),
        background=False,
    )
    reports = []

    def progress(done, total):
        reports.append(done)
        if len(reports) == 3:
            raise KeyboardInterrupt("cancelled")

    # when the progress callback stops it after three chunks
    with pytest.raises(KeyboardInterrupt):
        fill_code_batch(batch, chunk_size=200, progress=progress)
    # then no helper thread is left running, and what is stored is whole chunks only
    assert not [t for t in threading.enumerate() if t.name.startswith("pickup-codes")]
    stored = PickupCode.objects.filter(batch=batch).count()
    assert stored % 200 == 0 and 3 * 200 <= stored < 4000
    # and a re-run ends with exactly the batch
    fill_code_batch(batch, chunk_size=200)
    serials = sorted(PickupCode.objects.filter(batch=batch).values_list("serial", flat=True))
    assert serials == list(range(batch.serial_start, batch.serial_start + 4000))
