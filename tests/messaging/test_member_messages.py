import io
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from couponhub.core.models import AuditEntry, Job, SmsMessage
from couponhub.core.sms import top_up_sms_account
from couponhub.core.spreadsheets import write_xlsx
from messaging import services
from messaging.models import Delivery, MemberMessage
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import OrgFactory, Role, StoreFactory, user_with_role
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return user_with_role(Role.OPERATOR, OrgFactory())


def _draft(client, **data):
    payload = {"selection": "level", "level": "钻石级", "text": "周末全场9折", "marketing": "on"}
    payload.update(data)
    return client.post(reverse("messaging:list"), payload)


def test_the_cost_is_shown_before_anything_is_sent(client, operator, sms_outbox):
    MemberFactory.create_batch(3, level="钻石级")
    MemberFactory(level="钻石级", sms_opt_out=True)
    MemberFactory(level="金卡")
    client.force_login(operator)
    response = _draft(client)
    message = MemberMessage.objects.get()
    assert response.url == reverse("messaging:detail", args=[message.pk])
    page = client.get(response.url).content.decode()
    assert message.full_text == "周末全场9折 回T退订"
    assert 'id="recipients">3<' in page and 'id="estimated-cost">¥0.15<' in page
    assert not sms_outbox and not SmsMessage.objects.exists()


def test_sending_skips_opted_out_members_and_keeps_the_daily_limit(
    client, operator, sms_outbox, django_capture_on_commit_callbacks
):
    top_up_sms_account(actor=None, amount=Decimal("10"))
    rule = CouponRuleFactory()
    holders = [CouponFactory(rule=rule).member for _ in range(3)]
    holders[0].sms_opt_out = True
    holders[0].save(update_fields=["sms_opt_out"])
    client.force_login(operator)
    _draft(client, selection="rule", rule=rule.pk, text="您的券快到期了")
    first = MemberMessage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging:send", args=[first.pk]))
    first.refresh_from_db()
    assert Job.objects.get(pk=first.job_id).status == Job.Status.SUCCEEDED
    assert response.url == reverse("core:job_detail", args=[first.job_id])
    assert (first.sent, first.skipped, first.status) == (2, 1, MemberMessage.Status.DONE)
    assert {m["phone"] for m in sms_outbox} == {holders[1].phone, holders[2].phone}
    assert all(m["text"].endswith("回T退订") for m in sms_outbox)

    # a second message the same day reaches nobody: refused at the draft with the reason
    response = _draft(client, selection="rule", rule=rule.pk, text="再提醒一次")
    assert "今天已收到" in response.content.decode()
    assert MemberMessage.objects.count() == 1
    assert AuditEntry.objects.filter(action="messaging.send", actor=operator).exists()


def test_a_deliveries_check_refuses_the_limit_even_if_the_draft_was_older(
    client, operator, sms_outbox, django_capture_on_commit_callbacks
):
    top_up_sms_account(actor=None, amount=Decimal("10"))
    member = MemberFactory(level="钻石级")
    client.force_login(operator)
    _draft(client, text="甲")
    _draft(client, text="乙")
    one, two = MemberMessage.objects.order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("messaging:send", args=[one.pk]))
        client.post(reverse("messaging:send", args=[two.pk]))
    assert [d.status for d in Delivery.objects.filter(member=member).order_by("pk")] == [
        Delivery.Status.SENT,
        Delivery.Status.LIMIT,
    ]
    assert len(sms_outbox) == 1


def test_a_low_balance_refuses_the_send(client, operator):
    MemberFactory(level="钻石级")
    client.force_login(operator)
    _draft(client)
    message = MemberMessage.objects.get()
    response = client.post(reverse("messaging:send", args=[message.pk]), follow=True)
    assert "不足以支付" in response.content.decode()
    message.refresh_from_db()
    assert message.status == MemberMessage.Status.DRAFT


def test_an_uploaded_list_names_rows_that_are_no_member(client, operator):
    member = MemberFactory(phone="17700000516")
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=["手机号"], rows=[["17700000516"], ["13900000000"]])
    buffer.seek(0)
    buffer.name = "list.xlsx"
    client.force_login(operator)
    response = _draft(client, selection="upload", level="", file=buffer)
    assert "13900000000" in response.content.decode()
    buffer.seek(0)
    write_xlsx(buffer, headers=["手机号"], rows=[["17700000516"]])
    buffer.seek(0)
    _draft(client, selection="upload", level="", file=buffer)
    assert MemberMessage.objects.get().params == {"member_ids": [member.pk]}


def test_only_operators_send_member_messages(client):
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    assert client.get(reverse("messaging:list")).status_code == 403
    client.force_login(user_with_role(Role.HQ, OrgFactory()))
    assert client.get(reverse("messaging:list")).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_messages_at_once_reach_a_member_once_a_day(sms_outbox):
    top_up_sms_account(actor=None, amount=Decimal("10"))
    member = MemberFactory(level="钻石级")
    messages = [
        MemberMessage.objects.create(
            text=f"消息{i}", selection="level", selection_label="钻石级", params={"level": "钻石级"}
        )
        for i in range(2)
    ]
    barrier = threading.Barrier(2)

    def send(message):
        try:
            barrier.wait()
            services.deliver(message=message, member=member)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(m,)) for m in messages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(Delivery.objects.filter(member=member).values_list("status", flat=True))
    assert statuses == [Delivery.Status.LIMIT, Delivery.Status.SENT]
    assert len(sms_outbox) == 1
