from decimal import Decimal

import pytest
from django.urls import reverse

from couponhub.core import sms
from couponhub.core.models import SmsAccount, SmsMessage
from tests.factories import OrgFactory, Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


def test_a_send_costs_five_fen_and_is_logged(sms_outbox):
    sms.top_up_sms_account(actor=None, amount=Decimal("0.10"))
    message = sms.send_sms(phone="17700000516", text="验证码 123456", purpose="redeem_code")
    assert message.status == SmsMessage.Status.SENT
    assert message.cost == Decimal("0.05")
    assert sms.get_account().balance == Decimal("0.05")
    assert sms_outbox[-1]["phone"] == "17700000516"


def test_an_empty_balance_refuses_the_send_and_never_goes_negative(sms_outbox):
    sms.top_up_sms_account(actor=None, amount=Decimal("0.05"))
    first = sms.send_sms(phone="1", text="a", purpose="t")
    second = sms.send_sms(phone="2", text="b", purpose="t")
    assert first.status == SmsMessage.Status.SENT
    assert second.status == SmsMessage.Status.REFUSED and second.error == "短信余额不足，未发送"
    assert sms.get_account().balance == Decimal("0.00")
    assert len(sms_outbox) == 1


def test_a_failed_delivery_gives_the_fee_back(settings):
    settings.SMS_BACKEND = "couponhub.core.sms_backends.FailingBackend"
    sms.top_up_sms_account(actor=None, amount=Decimal("1.00"))
    message = sms.send_sms(phone="1", text="a", purpose="t")
    assert message.status == SmsMessage.Status.FAILED and message.error
    assert sms.get_account().balance == Decimal("1.00")


def test_the_balance_check_constraint_holds_in_the_database():
    from django.db import IntegrityError, transaction

    account = sms.get_account()
    with pytest.raises(IntegrityError), transaction.atomic():
        SmsAccount.objects.filter(pk=account.pk).update(balance=Decimal("-0.05"))


def test_admins_top_up_on_the_sms_page(client):
    admin = user_with_role(Role.ADMIN, OrgFactory())
    client.force_login(admin)
    response = client.post(reverse("core:sms_account"), {"amount": "12.50", "note": "月度充值"})
    assert response.status_code == 302
    assert sms.get_account().balance == Decimal("12.50")
    page = client.get(reverse("core:sms_account")).content.decode()
    assert "12.50" in page and "月度充值" in page


def test_a_top_up_must_be_positive(client):
    client.force_login(user_with_role(Role.ADMIN, OrgFactory()))
    response = client.post(reverse("core:sms_account"), {"amount": "-1"})
    assert response.status_code == 200
    assert sms.get_account().balance == Decimal("0.00")


def test_the_sms_page_is_forbidden_to_clerks(client):
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    assert client.get(reverse("core:sms_account")).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_parallel_sends_never_overdraw_the_account():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    sms.top_up_sms_account(actor=None, amount=Decimal("0.15"))

    def send(i):
        try:
            return sms.send_sms(phone=f"1770000{i:04d}", text="x", purpose="t").status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(send, range(20)))
    assert statuses.count(SmsMessage.Status.SENT) == 3
    assert statuses.count(SmsMessage.Status.REFUSED) == 17
    assert sms.get_account().balance == Decimal("0.00")


def test_the_sms_log_names_each_purpose_in_chinese(client):
    account = sms.get_account()
    SmsMessage.objects.create(
        account=account,
        phone="13800000000",
        text="验证码123456",
        purpose="redeem_code",
        status=SmsMessage.Status.SENT,
        cost=Decimal("0.05"),
    )
    client.force_login(user_with_role(Role.ADMIN, OrgFactory()))
    page = client.get(reverse("core:sms_account")).content.decode()
    assert "核销验证码" in page and "redeem_code</td>" not in page
    assert '<option value="redeem_code">核销验证码</option>' in page
    filtered = client.get(reverse("core:sms_account"), {"purpose": "pickup_order_shipped"})
    assert "验证码123456" not in filtered.content.decode()
