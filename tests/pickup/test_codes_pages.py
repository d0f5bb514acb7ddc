import pytest
from django.urls import reverse

from couponhub.core.models import AuditEntry, Job
from pickup.models import CodeBatch, PickupCode
from tests.pickup.factories import CardTypeFactory, CodeBatchFactory, PickupCodeFactory

pytestmark = pytest.mark.django_db


def test_code_list_filters_by_serial_range_batch_card_type_and_status(op_client):
    batch = CodeBatchFactory(serial_start=10, quantity=2)
    other = CodeBatchFactory(serial_start=12, quantity=1)
    a = PickupCodeFactory(batch=batch, serial=10, code="AAAA00000010", password="73519246")
    PickupCodeFactory(batch=batch, serial=11, code="AAAA00000011", status="used")
    PickupCodeFactory(batch=other, serial=12, code="BBBB00000012")
    url = reverse("pickup:code_list")
    text = op_client.get(url, {"serial_from": 10, "serial_to": 11}).content.decode()
    assert "AAAA00000010" in text and "AAAA00000011" in text and "BBBB00000012" not in text
    text = op_client.get(url, {"batch": other.pk}).content.decode()
    assert "BBBB00000012" in text and "AAAA00000010" not in text
    text = op_client.get(
        url, {"card_type": batch.card_type_id, "status": "unused"}
    ).content.decode()
    assert "AAAA00000010" in text and "AAAA00000011" not in text
    # the password shows masked only
    assert a.password not in text
    assert a.password[0] + "******" + a.password[-1] in text


def test_code_list_filters_by_generation_date_within_the_batches_serial_ranges(op_client):
    import datetime

    from django.utils import timezone

    # given three batches generated on three days, their serial ranges in that order
    days = [timezone.now() - datetime.timedelta(days=d) for d in (20, 10, 1)]
    batches = [CodeBatchFactory(serial_start=100 * (i + 1), quantity=2) for i in range(3)]
    for i, (batch, day) in enumerate(zip(batches, days, strict=True)):
        CodeBatch.objects.filter(pk=batch.pk).update(created_at=day)
        PickupCodeFactory(batch=batch, serial=batch.serial_start, code=f"DATE{i}0000000")
        PickupCodeFactory(batch=batch, serial=batch.serial_start + 1, code=f"DATE{i}0000001")
    url = reverse("pickup:code_list")

    def codes(**query):
        table = op_client.get(url, query).context["table"]
        return [row.record.code for row in table.page.object_list]

    middle = timezone.localdate(days[1]).isoformat()
    # then a date range keeps exactly the codes of the batches generated in it
    assert codes(date_from=middle) == [
        "DATE10000000",
        "DATE10000001",
        "DATE20000000",
        "DATE20000001",
    ]
    assert codes(date_to=middle) == ["DATE00000000", "DATE00000001", "DATE10000000", "DATE10000001"]
    assert codes(date_from=middle, date_to=middle, status="unused") == [
        "DATE10000000",
        "DATE10000001",
    ]
    assert codes(date_from=timezone.localdate().isoformat()) == []


def test_code_list_runs_a_fixed_number_of_queries(op_client, django_assert_max_num_queries):
    batch = CodeBatchFactory()
    for _ in range(20):
        PickupCodeFactory(batch=batch)
    with django_assert_max_num_queries(12):
        op_client.get(reverse("pickup:code_list"))


def test_code_detail_shows_the_pickup_url_and_qr_codes(op_client):
    code = PickupCodeFactory(code="QRTEST123456")
    text = op_client.get(reverse("pickup:code_detail", args=[code.pk])).content.decode()
    assert "http://testserver/pickup/c/QRTEST123456/" in text
    png = op_client.get(reverse("pickup:code_qr", args=[code.pk, "png"]))
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = op_client.get(reverse("pickup:code_qr", args=[code.pk, "svg"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    # the consumer placeholder answers at that URL, without login
    op_client.logout()
    assert op_client.get("/pickup/c/QRTEST123456/").status_code == 200


def test_code_pages_refused_to_a_clerk(client, clerk):
    code = PickupCodeFactory()
    client.force_login(clerk)
    assert client.get(reverse("pickup:code_detail", args=[code.pk])).status_code == 403
    assert client.get(reverse("pickup:code_qr", args=[code.pk, "png"])).status_code == 403


def test_generate_page_starts_a_job_and_redirects_to_its_progress(
    op_client, django_capture_on_commit_callbacks
):
    card = CardTypeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = op_client.post(
            reverse("pickup:generate"),
            {
                "card_type": card.pk,
                "prefix": "ab",
                "code_length": 12,
                "code_format": "mixed",
                "password_length": 8,
                "password_format": "digits",
                "quantity": 120,
            },
        )
    batch = CodeBatch.objects.get()
    assert response["Location"] == reverse("core:job_detail", args=[batch.job_id])
    assert Job.objects.get(pk=batch.job_id).status == Job.Status.SUCCEEDED
    assert PickupCode.objects.filter(batch=batch, code__startswith="AB").count() == 120


def test_generate_page_explains_a_too_small_code_space(op_client):
    card = CardTypeFactory()
    response = op_client.post(
        reverse("pickup:generate"),
        {
            "card_type": card.pk,
            "code_length": 6,
            "code_format": "digits",
            "password_length": 8,
            "password_format": "digits",
            "quantity": 1000,
        },
    )
    assert response.status_code == 200
    assert "码空间" in response.content.decode()
    assert not CodeBatch.objects.exists()


def _selection_codes():
    card = CardTypeFactory(name="2388套餐")
    batch = CodeBatchFactory(card_type=card)
    unused = [PickupCodeFactory(batch=batch) for _ in range(3)]
    used = PickupCodeFactory(batch=batch, status="used")
    outside = PickupCodeFactory()
    return batch, unused, used, outside


def test_batch_preview_counts_the_selection(op_client):
    batch, _unused, _used, _outside = _selection_codes()
    text = op_client.get(reverse("pickup:batch_action"), {"batch": batch.pk}).content.decode()
    assert 'class="big-number preview-count">4<' in text
    assert "其中1个已使用" in text


def test_batch_delete_skips_used_codes_and_writes_one_audit_entry(op_client):
    batch, _unused, used, outside = _selection_codes()
    response = op_client.post(
        reverse("pickup:batch_action"), {"batch": batch.pk, "action": "delete", "step": "apply"}
    )
    assert response.status_code == 302
    assert set(PickupCode.objects.values_list("pk", flat=True)) == {used.pk, outside.pk}
    entry = AuditEntry.objects.get(action="pickup.pickupcode.batch_delete")
    assert entry.after["matched"] == 4
    assert entry.after["changed"] == 3
    assert entry.after["skipped_used"] == 1


def test_batch_change_card_type_and_disable(op_client):
    batch, unused, used, outside = _selection_codes()
    new = CardTypeFactory(name="3888套餐")
    op_client.post(
        reverse("pickup:batch_action"),
        {"batch": batch.pk, "action": "change_card_type", "new_card_type": new.pk, "step": "apply"},
    )
    assert PickupCode.objects.filter(card_type=new).count() == 3
    used.refresh_from_db()
    assert used.card_type_id == batch.card_type_id
    op_client.post(
        reverse("pickup:batch_action"),
        {
            "serial_from": unused[0].serial,
            "serial_to": used.serial,
            "action": "disable",
            "step": "apply",
        },
    )
    assert PickupCode.objects.filter(enabled=False).count() == 4
    outside.refresh_from_db()
    assert outside.enabled
    assert AuditEntry.objects.filter(action__startswith="pickup.pickupcode.batch_").count() == 2


def test_batch_action_needs_a_selector(op_client):
    _selection_codes()
    response = op_client.post(
        reverse("pickup:batch_action"), {"action": "delete", "step": "apply"}, follow=True
    )
    assert PickupCode.objects.count() == 5
    assert "至少需要一个条件" in response.content.decode()


def test_batch_action_by_generation_date(op_client):
    batch, _unused, _used, outside = _selection_codes()
    from datetime import timedelta

    from django.utils import timezone

    CodeBatch.objects.filter(pk=outside.batch_id).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    today = timezone.localdate().isoformat()
    op_client.post(
        reverse("pickup:batch_action"),
        {"date_from": today, "date_to": today, "action": "disable", "step": "apply"},
    )
    outside.refresh_from_db()
    assert outside.enabled
    assert PickupCode.objects.filter(batch=batch, enabled=False).count() == 4
