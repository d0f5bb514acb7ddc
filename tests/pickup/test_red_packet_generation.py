"""Red-packet generation as a background job: the page refuses with the reason, a confirmed
generation is a job with a progress bar, chunks are whole, a re-run completes exactly."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.jobs import rerun_job, run_job
from couponhub.core.models import AuditEntry, Job
from pickup import services
from pickup.models import PickupCode, RedPacketAccount, RedPacketEntry
from tests.factories import OrgFactory, Role, user_with_role
from tests.pickup.factories import CodeBatchFactory, PickupCodeFactory


def codes_in_batch(n: int):
    batch = CodeBatchFactory()
    for _ in range(n):
        PickupCodeFactory(batch=batch)
    return batch


def adds_up() -> RedPacketAccount:
    account = RedPacketAccount.load()
    on_codes = sum(
        PickupCode.objects.filter(red_packet_amount__gt=0).values_list(
            "red_packet_amount", flat=True
        ),
        Decimal(0),
    )
    assert account.top_ups_total == account.balance + account.reserved + account.spent_total
    assert account.reserved == on_codes
    return account


@pytest.mark.django_db
def test_the_preview_shows_why_a_generation_beyond_the_balance_is_refused(op_client, operator):
    services.top_up_red_packets(actor=operator, amount="5.00")
    batch = codes_in_batch(4)
    page = op_client.post(
        reverse("pickup:red_packet_generate"), {"batch": batch.pk, "low": "2.00", "high": "3.00"}
    ).content.decode()
    assert "红包账户可用余额¥5.00不足以给4个提货码各分配最低¥2.00（至少需要¥8.00）" in page
    assert 'name="confirm"' not in page  # nothing to confirm
    # confirming anyway (an old form) is refused the same way and queues nothing
    page = op_client.post(
        reverse("pickup:red_packet_generate"),
        {"batch": batch.pk, "low": "2.00", "high": "3.00", "confirm": "1"},
    ).content.decode()
    assert "至少需要¥8.00" in page and not Job.objects.exists()
    assert not PickupCode.objects.filter(red_packet_amount__gt=0).exists()


@pytest.mark.django_db
def test_an_empty_selection_is_refused_on_the_page(op_client, operator):
    services.top_up_red_packets(actor=operator, amount="50.00")
    batch = codes_in_batch(2)
    PickupCode.objects.filter(batch=batch).update(status=PickupCode.Status.USED)
    page = op_client.post(
        reverse("pickup:red_packet_generate"),
        {"batch": batch.pk, "low": "1.00", "high": "2.00", "confirm": "1"},
    ).content.decode()
    assert "筛选条件：所选范围内没有可分配红包的提货码（须未使用且尚无红包）" in page
    assert not Job.objects.exists()
    page = op_client.post(
        reverse("pickup:red_packet_generate"), {"low": "1.00", "high": "2.00"}
    ).content.decode()
    assert "筛选条件：至少需要一个条件" in page


@pytest.mark.django_db
def test_confirming_queues_a_job_whose_page_shows_its_progress(
    op_client, operator, django_capture_on_commit_callbacks
):
    services.top_up_red_packets(actor=operator, amount="100.00")
    batch = codes_in_batch(5)
    form = {"batch": batch.pk, "low": "1.00", "high": "3.00"}
    preview = op_client.post(reverse("pickup:red_packet_generate"), form)
    assert preview.context["preview"].count == 5
    with django_capture_on_commit_callbacks(execute=True):  # the eager task runs the job
        response = op_client.post(reverse("pickup:red_packet_generate"), {**form, "confirm": "1"})
    job = Job.objects.get(kind="pickup.generate_red_packets")
    assert response.status_code == 302 and response.url == reverse("core:job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and (job.done, job.total) == (5, 5)
    assert PickupCode.objects.filter(batch=batch, red_packet_amount__gt=0).count() == 5
    account = adds_up()
    assert job.result["预留金额"] == f"¥{account.reserved:,.2f}"
    detail = op_client.get(response.url).content.decode()
    assert 'value="100"' in detail and "生成红包" in detail
    listed = op_client.get(reverse("pickup:red_packet_generate")).content.decode()
    assert f'href="{response.url}"' in listed  # the generate page lists it with its bar
    assert AuditEntry.objects.filter(action="pickup.redpacket.generate_start").count() == 1


@pytest.mark.django_db
def test_chunks_are_whole_and_a_rerun_after_a_crash_ends_exactly(
    operator, monkeypatch, django_capture_on_commit_callbacks
):
    # given a generation of 10 codes in chunks of 3, whose worker dies after the second chunk
    monkeypatch.setattr("pickup.services.red_packets.RED_PACKET_CHUNK", 3)
    services.top_up_red_packets(actor=operator, amount="30.00")
    batch = codes_in_batch(10)
    job = services.start_red_packet_generation(
        actor=operator, selection={"batch": str(batch.pk)}, low="1.00", high="2.00"
    )
    calls = []

    def dies_after_two_chunks(done, total):
        calls.append((done, total))
        if len(calls) == 2:
            raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        services.generate_red_packets(
            actor=operator,
            selection={"batch": str(batch.pk)},
            low="1.00",
            high="2.00",
            job=job,
            progress=dies_after_two_chunks,
        )
    assert calls == [(3, 10), (6, 10)]
    assert PickupCode.objects.filter(red_packet_amount__gt=0).count() == 6
    assert RedPacketEntry.objects.filter(job=job).count() == 2
    adds_up()
    # when the job is run again
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        rerun_job(job=Job.objects.get(pk=job.pk), actor=operator)
    job.refresh_from_db()
    # then every code has exactly one red packet and the job counts all ten
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.done, job.total, job.result["提货码数量"]) == (10, 10, 10)
    assert PickupCode.objects.filter(red_packet_amount__gt=0).count() == 10
    entries = RedPacketEntry.objects.filter(job=job)
    assert sorted(e.codes for e in entries) == [1, 3, 3, 3]
    account = adds_up()
    assert sum(e.amount for e in entries) == account.reserved


@pytest.mark.django_db
def test_a_balance_spent_meanwhile_fails_the_job_with_the_reason_and_keeps_whole_chunks(
    operator, monkeypatch
):
    monkeypatch.setattr("pickup.services.red_packets.RED_PACKET_CHUNK", 2)
    services.top_up_red_packets(actor=operator, amount="8.00")
    batch = codes_in_batch(4)
    job = services.start_red_packet_generation(
        actor=operator, selection={"batch": str(batch.pk)}, low="2.00", high="2.00"
    )
    other = codes_in_batch(1)  # another generation takes ¥2 before the job runs
    services.generate_red_packets(
        actor=operator, selection={"batch": str(other.pk)}, low="2.00", high="2.00"
    )
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "不足以给4个提货码各分配最低¥2.00" in job.error
    assert PickupCode.objects.filter(batch=batch, red_packet_amount__gt=0).count() == 0
    adds_up()


@pytest.mark.django_db
def test_codes_used_meanwhile_take_no_red_packet(operator):
    services.top_up_red_packets(actor=operator, amount="10.00")
    batch = codes_in_batch(3)
    serials = list(PickupCode.objects.filter(batch=batch).values_list("serial", flat=True))
    amounts = [Decimal("1.00")] * 3
    PickupCode.objects.filter(serial=serials[1]).update(status=PickupCode.Status.USED)
    put = services.red_packets._set_red_packet_amounts(serials, amounts)
    assert len(put) == 2
    assert PickupCode.objects.get(serial=serials[1]).red_packet_amount == 0


@pytest.mark.django_db
def test_the_service_refuses_naming_the_field():
    with pytest.raises(Refused, match="红包金额：最低金额须大于0"):
        services.plan_red_packets(selection={"batch": "1"}, low="0", high="1")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_generation_end_to_end(worker):
    operator = user_with_role(Role.OPERATOR, OrgFactory())
    services.top_up_red_packets(actor=operator, amount="500.00")
    batch = codes_in_batch(40)
    job = services.start_red_packet_generation(
        actor=operator, selection={"batch": str(batch.pk)}, low="0.50", high="9.99"
    )
    deadline = time.monotonic() + 120
    while not job.is_finished:
        assert time.monotonic() < deadline and worker.poll() is None, "the worker never finished"
        time.sleep(0.1)
        job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.done, job.total) == (40, 40)
    amounts = list(
        PickupCode.objects.filter(batch=batch).values_list("red_packet_amount", flat=True)
    )
    assert all(Decimal("0.50") <= a <= Decimal("9.99") for a in amounts)
    assert adds_up().reserved == sum(amounts)
