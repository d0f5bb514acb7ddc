"""SMS are sent by a task after the caller commits, once, and a backend that raises gives the fee
back."""

from decimal import Decimal

import pytest

from couponhub.celery import app
from couponhub.core import sms
from couponhub.core.models import SmsAccount, SmsMessage
from couponhub.core.sms_backends import SmsBackend

pytestmark = pytest.mark.django_db


class RaisingBackend(SmsBackend):
    def __init__(self, **_ignored):
        pass

    def send(self, *, phone, text, template_code="", params=None):
        raise ConnectionResetError("the gateway hung up")


@pytest.fixture
def balance():
    sms.top_up_sms_account(actor=None, amount=Decimal("1.00"))


def test_a_message_delivered_twice_is_sent_once(balance, sms_outbox):
    message = sms.send_sms(phone="13900000001", text="你好", purpose="t")
    assert message.status == SmsMessage.Status.SENT and len(sms_outbox) == 1
    sms.deliver(message.pk)  # the broker delivers the task again
    sms.deliver_sms_task.apply(args=(message.pk,))
    assert len(sms_outbox) == 1
    assert SmsAccount.objects.get().balance == Decimal("0.95")


def test_without_eager_tasks_the_message_waits_for_the_commit(
    balance, sms_outbox, settings, django_capture_on_commit_callbacks
):
    app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            message = sms.send_sms(phone="13900000002", text="你好", purpose="t")
        assert message.status == SmsMessage.Status.PENDING and sms_outbox == []
        assert len(callbacks) == 1  # the task is published once the caller commits
    finally:
        app.conf.task_always_eager = True
    sms.deliver(message.pk)  # what the interactive worker then does
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT and len(sms_outbox) == 1


def test_a_backend_that_raises_fails_the_message_and_gives_the_fee_back(balance, settings):
    settings.SMS_BACKEND = "tests.core.test_sms_delivery.RaisingBackend"
    message = sms.send_sms(phone="13900000003", text="你好", purpose="t")
    assert message.status == SmsMessage.Status.FAILED and message.cost == 0
    assert message.error == "短信网关异常，未发送"
    assert SmsAccount.objects.get().balance == Decimal("1.00")
