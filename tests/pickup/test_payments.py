"""Top-ups of the SMS and red-packet accounts paid online: the WeChat Pay Native adapter against a
local stub of WeChat Pay v3, the notice that raises a balance only when verified and only once
(threads racing duplicates), the pages with the QR code, and the development backend."""

import threading
import time
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection
from django.test import Client
from django.urls import reverse

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry, SmsAccount, SmsTopUp
from couponhub.core.sms import get_account
from pickup import payment_backends, services
from pickup.models import RedPacketAccount, RedPacketEntry, TopUpOrder
from tests.factories import OrgFactory, Role, user_with_role
from tests.pickup.stubs import WechatPayStub

MCHID, APPID, SERIAL, PLATFORM_SERIAL = "1900009191", "wxd678efh567hg6787", "5157F09E", "PLAT01"
API_V3_KEY = "0123456789abcdef0123456789ABCDEF"  # 32 characters


def pem_private(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def pem_public(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def keys():
    return {
        name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
        for name in ("merchant", "platform", "stranger")
    }


@pytest.fixture
def wechat(keys):
    with WechatPayStub(
        mchid=MCHID,
        appid=APPID,
        merchant_public_key=keys["merchant"].public_key(),
        platform_private_key=keys["platform"],
        platform_serial=PLATFORM_SERIAL,
        api_v3_key=API_V3_KEY,
    ) as stub:
        yield stub


def options(stub, keys, *, merchant="merchant", platform="platform") -> dict:
    return {
        "mchid": MCHID,
        "appid": APPID,
        "merchant_serial_no": SERIAL,
        "merchant_private_key": pem_private(keys[merchant]),
        "api_v3_key": API_V3_KEY,
        "platform_public_key": pem_public(keys[platform]),
        "platform_serial_no": PLATFORM_SERIAL,
        "endpoint": stub.url,
        "timeout": 5,
        "proxies": {},
    }


@pytest.fixture
def use_wechat(settings, wechat, keys):
    settings.PICKUP_PAYMENT_BACKEND = "pickup.payment_backends.WechatPayNativeBackend"
    settings.PICKUP_PAYMENT_OPTIONS = options(wechat, keys)
    return wechat


# --- the adapter ------------------------------------------------------------------


def test_a_native_order_is_signed_and_its_answer_verified(wechat, keys):
    backend = payment_backends.WechatPayNativeBackend(**options(wechat, keys))
    code_url = backend.create_native_order(
        out_trade_no="T2026112600000001",
        amount_fen=12345,
        description="红包账户充值¥123.45",
        notify_url="https://example.com/pickup/payments/notify/",
    )
    assert code_url == "weixin://wxpay/bizpayurl?pr=STUB0001"
    assert wechat.orders["T2026112600000001"]["amount"] == {"total": 12345, "currency": "CNY"}
    assert wechat.rejected == []


def test_a_request_signed_with_another_key_is_refused_by_wechat(wechat, keys):
    backend = payment_backends.WechatPayNativeBackend(**options(wechat, keys, merchant="stranger"))
    with pytest.raises(payment_backends.PaymentError, match="签名错误（HTTP 401）"):
        backend.create_native_order(
            out_trade_no="T1", amount_fen=100, description="x", notify_url="https://e.com/n"
        )
    assert wechat.rejected == ["signature"] and wechat.orders == {}


def test_an_answer_not_signed_by_the_platform_is_not_believed(wechat, keys):
    backend = payment_backends.WechatPayNativeBackend(**options(wechat, keys, platform="stranger"))
    with pytest.raises(payment_backends.PaymentError, match="应答验签失败"):
        backend.create_native_order(
            out_trade_no="T2", amount_fen=100, description="x", notify_url="https://e.com/n"
        )


def test_a_notice_is_verified_and_decrypted(wechat, keys):
    backend = payment_backends.WechatPayNativeBackend(**options(wechat, keys))
    backend.create_native_order(
        out_trade_no="T3", amount_fen=500, description="x", notify_url="https://e.com/n"
    )
    headers, body = wechat.notice("T3")
    notice = backend.parse_notice(headers=headers, body=body)
    assert (notice.out_trade_no, notice.trade_state, notice.amount_fen) == ("T3", "SUCCESS", 500)
    assert notice.transaction_id.startswith("4200") and notice.paid_at.isoformat().endswith(
        "+08:00"
    )
    # a byte changed in the body breaks the signature
    with pytest.raises(payment_backends.NoticeRejected, match="验签失败"):
        backend.parse_notice(headers=headers, body=body.replace(b"TRANSACTION", b"TRANSACTIOM"))
    # an old notice replayed is refused
    old_headers, old_body = wechat.notice("T3", timestamp=int(time.time()) - 600)
    with pytest.raises(payment_backends.NoticeRejected, match="过期"):
        backend.parse_notice(headers=old_headers, body=old_body)
    # a ciphertext under another APIv3 key does not decrypt, however well signed
    wechat.api_v3_key = "X" * 32
    headers, body = wechat.notice("T3")
    with pytest.raises(payment_backends.NoticeRejected, match="解密失败"):
        backend.parse_notice(headers=headers, body=body)


def test_the_adapter_says_what_its_configuration_lacks(wechat, keys):
    with pytest.raises(ValueError, match="缺少api_v3_key"):
        payment_backends.WechatPayNativeBackend(**{**options(wechat, keys), "api_v3_key": ""})
    with pytest.raises(ValueError, match="32个字符"):
        payment_backends.WechatPayNativeBackend(**{**options(wechat, keys), "api_v3_key": "short"})


# --- end to end: the page, WeChat Pay, its notice over HTTP --------------------------


@pytest.mark.django_db(transaction=True)
def test_a_red_packet_top_up_paid_by_wechat_raises_the_balance_once(
    client, live_server, use_wechat, settings
):
    # given an operator on the red-packet account page, with WeChat Pay notices reaching us
    settings.PICKUP_PAYMENT_NOTIFY_URL = live_server.url + reverse("pickup:payment_notify")
    operator = user_with_role(Role.OPERATOR, OrgFactory())
    client.force_login(operator)
    # when they top up ¥200.00
    response = client.post(
        reverse("pickup:top_up", args=["red_packets"]), {"amount": "200.00", "note": "十一月"}
    )
    order = TopUpOrder.objects.get()
    assert response.url == reverse("pickup:payment_detail", args=[order.out_trade_no])
    page = client.get(response.url).content.decode()
    assert "等待支付" in page and reverse("pickup:payment_qr", args=[order.out_trade_no]) in page
    qr = client.get(reverse("pickup:payment_qr", args=[order.out_trade_no]))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    # then nothing is credited before WeChat Pay says it is paid
    assert RedPacketAccount.load().balance == 0
    assert use_wechat.orders[order.out_trade_no]["notify_url"] == settings.PICKUP_PAYMENT_NOTIFY_URL
    # and WeChat Pay's notice (verified, decrypted) credits it, once however often it comes
    assert use_wechat.send_notice(order.out_trade_no) == (204, b"")
    assert use_wechat.send_notice(order.out_trade_no) == (204, b"")
    account = RedPacketAccount.load()
    assert account.balance == account.top_ups_total == Decimal("200.00")
    entry = RedPacketEntry.objects.get(kind=RedPacketEntry.Kind.TOP_UP)
    assert entry.actor == operator and order.out_trade_no in entry.note
    order.refresh_from_db()
    assert order.status == TopUpOrder.Status.PAID and order.transaction_id.startswith("4200")
    status = client.get(reverse("pickup:payment_status", args=[order.out_trade_no])).json()
    assert status == {"status": "paid", "status_display": "已支付", "paid": True}
    assert AuditEntry.objects.filter(action="pickup.topup.paid").count() == 1


@pytest.mark.django_db(transaction=True)
def test_notices_that_do_not_hold_credit_nothing(live_server, use_wechat, settings):
    settings.PICKUP_PAYMENT_NOTIFY_URL = live_server.url + reverse("pickup:payment_notify")
    order = services.start_top_up(
        actor=None, purpose="sms", amount="10.00", notify_url=settings.PICKUP_PAYMENT_NOTIFY_URL
    )
    status, body = use_wechat.send_notice(order.out_trade_no, amount_fen=1)
    assert status == 400 and "支付金额0.01元与订单金额10.00元不符".encode() in body
    assert use_wechat.send_notice(order.out_trade_no, trade_state="CLOSED")[0] == 204
    use_wechat.api_v3_key = "Y" * 32  # someone who does not hold the key
    status, body = use_wechat.send_notice(order.out_trade_no)
    assert status == 401 and "解密失败".encode() in body
    order.refresh_from_db()
    assert order.status == "pending" and get_account().balance == 0


@pytest.mark.django_db(transaction=True)
def test_duplicate_notices_racing_in_threads_credit_the_sms_account_once(use_wechat):
    # given a paid SMS top-up whose notice arrives eight times at once
    order = services.start_top_up(
        actor=None, purpose="sms", amount="25.00", notify_url="https://example.com/notify/"
    )
    headers, body = use_wechat.notice(order.out_trade_no)
    barrier = threading.Barrier(8)
    outcomes, errors = [], []

    def deliver():
        try:
            barrier.wait()
            outcomes.append(services.handle_payment_notice(headers=headers, body=body).status)
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every delivery sees the order paid and the balance rose once
    assert errors == [] and outcomes == ["paid"] * 8
    assert SmsAccount.objects.get(name="default").balance == Decimal("25.00")
    assert SmsTopUp.objects.count() == 1


@pytest.mark.django_db
def test_a_provider_that_refuses_the_order_fails_it_with_the_reason(settings, wechat, keys):
    settings.PICKUP_PAYMENT_BACKEND = "pickup.payment_backends.WechatPayNativeBackend"
    settings.PICKUP_PAYMENT_OPTIONS = options(wechat, keys, merchant="stranger")
    with pytest.raises(Refused, match="微信支付下单失败：签名错误"):
        services.start_top_up(actor=None, purpose="sms", amount="5", notify_url="https://e.com/")
    order = TopUpOrder.objects.get()
    assert order.status == "failed" and "签名错误" in order.error


# --- the development backend and the pages -----------------------------------------


@pytest.mark.django_db
def test_the_development_backend_pays_by_simulation_through_the_same_notice(op_client):
    op_client.post(reverse("pickup:top_up", args=["sms"]), {"amount": "3.00", "note": ""})
    order = TopUpOrder.objects.get()
    page = op_client.get(reverse("pickup:payment_detail", args=[order.out_trade_no]))
    assert "模拟支付" in page.content.decode()
    op_client.post(reverse("pickup:payment_simulate", args=[order.out_trade_no]))
    op_client.post(reverse("pickup:payment_simulate", args=[order.out_trade_no]))
    assert get_account().balance == Decimal("3.00") and SmsTopUp.objects.count() == 1
    assert AuditEntry.objects.filter(action="pickup.topup.simulate").count() == 2
    assert AuditEntry.objects.filter(action="pickup.topup.paid").count() == 1
    sms_page = op_client.get(reverse("pickup:sms")).content.decode()
    assert order.out_trade_no in sms_page and "已支付" in sms_page
    # a notice the backend did not sign is refused
    with pytest.raises(Refused, match="支付通知：支付通知验签失败"):
        services.handle_payment_notice(headers={}, body=b"forged")


@pytest.mark.django_db
def test_simulation_is_refused_in_production(op_client, settings):
    op_client.post(reverse("pickup:top_up", args=["red_packets"]), {"amount": "3.00"})
    order = TopUpOrder.objects.get()
    settings.PRODUCTION = True
    with pytest.raises(Refused, match="只有开发环境"):
        services.simulate_payment(actor=None, order=order)
    assert RedPacketAccount.load().balance == 0


@pytest.mark.django_db
@pytest.mark.parametrize("amount,message", [("0", "充值金额"), ("abc", "充值金额")])
def test_a_bad_amount_is_refused_on_the_account_page(op_client, amount, message):
    response = op_client.post(
        reverse("pickup:top_up", args=["red_packets"]), {"amount": amount}, follow=True
    )
    assert message in response.content.decode() and not TopUpOrder.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_an_amount_too_large():
    with pytest.raises(Refused, match="充值金额：须大于0且不超过¥1,000,000.00"):
        services.start_top_up(actor=None, purpose="sms", amount="1000000.01", notify_url="x")


@pytest.mark.django_db
def test_top_up_pages_are_for_operators(hq, op_client):
    op_client.post(reverse("pickup:top_up", args=["sms"]), {"amount": "1.00"})
    order = TopUpOrder.objects.get()
    client = Client()
    client.force_login(hq)
    for url in [
        reverse("pickup:payment_detail", args=[order.out_trade_no]),
        reverse("pickup:payment_qr", args=[order.out_trade_no]),
        reverse("pickup:payment_status", args=[order.out_trade_no]),
    ]:
        assert client.get(url).status_code == 403
    assert client.post(reverse("pickup:top_up", args=["sms"]), {"amount": "1"}).status_code == 403
    assert op_client.get(reverse("pickup:top_up", args=["sms"])).status_code == 405
    assert (
        op_client.post(reverse("pickup:top_up", args=["gold"]), {"amount": "1"}).status_code == 404
    )
    assert op_client.get(reverse("pickup:payment_notify")).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\xff\xfe", b"{" * 5000, "\ud800".encode("utf-8", "surrogatepass"), b"x" * 70_000],
)
def test_a_garbage_or_oversized_notice_gets_the_providers_error_body(client, body):
    # an unsigned, garbled or oversized body (the 70 KB one is over what a notice can be, and
    # one over DATA_UPLOAD_MAX_MEMORY_SIZE used to be Django's HTML 400) is refused in the body
    # WeChat Pay reads, and credits nothing
    response = client.post(reverse("pickup:payment_notify"), data=body, content_type="text/plain")
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "FAIL" and "支付通知" in response.json()["message"]
    assert get_account().balance == 0


@pytest.mark.django_db
def test_a_notice_over_the_upload_limit_is_refused_in_the_providers_format(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        reverse("pickup:payment_notify"), data=b"x" * 2000, content_type="text/plain"
    )
    assert response.status_code == 413 and response.json()["code"] == "FAIL"


@pytest.mark.django_db
@pytest.mark.parametrize("total", ["abc", [1], 10.5])
def test_a_signed_notice_with_a_garbled_amount_is_refused_not_a_500(client, use_wechat, total):
    order = services.start_top_up(
        actor=None, purpose="sms", amount="10.00", notify_url="https://example.com/notify/"
    )
    headers, body = use_wechat.notice(order.out_trade_no, amount_fen=total)
    django_headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = client.post(
        reverse("pickup:payment_notify"),
        data=body,
        content_type="application/json",
        **{k: v for k, v in django_headers.items() if k != "HTTP_CONTENT_TYPE"},
    )
    assert 400 <= response.status_code < 500 and response.json()["code"] == "FAIL"
    order.refresh_from_db()
    assert order.status == "pending" and get_account().balance == 0


@pytest.mark.django_db
@pytest.mark.parametrize("timestamp", ["9" * 5000, "\u00b2\u00b3"])
def test_a_notice_whose_timestamp_is_no_number_is_refused_not_a_500(client, use_wechat, timestamp):
    response = client.post(
        reverse("pickup:payment_notify"),
        data=b"{}",
        content_type="application/json",
        HTTP_WECHATPAY_TIMESTAMP=timestamp,
        HTTP_WECHATPAY_NONCE="n",
        HTTP_WECHATPAY_SIGNATURE="s",
    )
    assert response.status_code == 401 and response.json()["code"] == "FAIL"


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["", "status/", "qr.svg"])
def test_an_order_number_postgresql_cannot_store_is_a_404(op_client, suffix):
    # the operator's payment pages took any text as the order number: a NUL was a 500
    assert op_client.get(f"/pickup/payments/T%00x/{suffix}").status_code == 404
