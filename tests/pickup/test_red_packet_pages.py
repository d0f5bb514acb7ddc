"""Red-packet back-office pages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from pickup import services
from pickup.models import PickupCode, RedPacketAccount, RedPacketSettings
from tests.pickup.factories import CodeBatchFactory, PickupCodeFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "pickup:red_packet_list",
    "pickup:red_packet_settings",
    "pickup:red_packet_account",
    "pickup:red_packet_generate",
    "pickup:red_packet_claims",
]


@pytest.mark.parametrize("name", PAGES)
def test_pages_open_for_operators_and_refuse_others(client, op_client, hq, name):
    assert op_client.get(reverse(name)).status_code == 200
    client.force_login(hq)
    assert client.get(reverse(name)).status_code == 403


def test_settings_and_top_up(op_client):
    op_client.post(
        reverse("pickup:red_packet_settings"),
        {"enabled": "on", "daily_limit": 2, "monthly_limit": 10, "lifetime_limit": 0},
    )
    config = RedPacketSettings.load()
    assert (config.daily_limit, config.monthly_limit, config.lifetime_limit) == (2, 10, 0)
    # a top-up is paid (here by the development backend's simulated notice) before it counts
    paying = op_client.post(reverse("pickup:top_up", args=["red_packets"]), {"amount": "50.00"})
    assert RedPacketAccount.load().balance == 0
    op_client.post(paying.url.rstrip("/") + "/simulate/")
    page = op_client.get(reverse("pickup:red_packet_account")).content.decode()
    assert RedPacketAccount.load().balance == Decimal("50.00") and "¥50.00" in page


def test_generate_preview_then_confirm_then_clear(
    op_client, operator, django_capture_on_commit_callbacks
):
    services.top_up_red_packets(actor=operator, amount="100")
    batch = CodeBatchFactory()
    codes = [PickupCodeFactory(batch=batch) for _ in range(4)]
    form = {"batch": batch.pk, "low": "1.00", "high": "3.00"}
    preview = op_client.post(reverse("pickup:red_packet_generate"), form)
    assert preview.context["preview"].count == 4
    assert not PickupCode.objects.filter(red_packet_amount__gt=0).exists()
    with django_capture_on_commit_callbacks(execute=True):  # the job runs (eager task)
        op_client.post(reverse("pickup:red_packet_generate"), {**form, "confirm": "1"})
    assert PickupCode.objects.filter(red_packet_amount__gt=0).count() == 4
    listed = op_client.get(reverse("pickup:red_packet_list")).content.decode()
    assert all(c.code in listed for c in codes)
    op_client.post(reverse("pickup:red_packet_list"), {"ids": [codes[0].pk]})
    assert PickupCode.objects.filter(red_packet_amount__gt=0).count() == 3
    account = RedPacketAccount.load()
    assert account.top_ups_total == account.balance + account.reserved


def test_generate_beyond_the_balance_is_refused_with_the_reason(op_client):
    batch = CodeBatchFactory()
    PickupCodeFactory(batch=batch)
    page = op_client.post(
        reverse("pickup:red_packet_generate"),
        {"batch": batch.pk, "low": "1.00", "high": "3.00", "confirm": "1"},
    )
    assert "余额" in page.content.decode()
