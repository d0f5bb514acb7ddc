import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import re
import socket
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from couponhub.core.sms_backends import (
    AliyunSmsBackend,
    ConsoleBackend,
    FailingBackend,
    MemoryBackend,
    SmsBackend,
    SmsConfigurationError,
    SmsResult,
    aliyun_signature,
    load_backend,
)

SECRET = "s3cr3t-Key*With~Odd Chars"
PHONE_OK = "13800000000"
PHONE_LIMITED = "13900000000"
PHONE_SLOW = "13700000000"
PHONE_BROKEN = "13600000000"

# --- simple backends -----------------------------------------------------------


def test_console_backend_writes_to_stream():
    stream = io.StringIO()
    result = ConsoleBackend(stream=stream).send(
        phone=PHONE_OK, text="您的券码为ABC", template_code="SMS_1", params={"code": "ABC"}
    )
    assert result.ok and result.provider_id.startswith("console-")
    output = stream.getvalue()
    assert PHONE_OK in output and "您的券码为ABC" in output and '"code": "ABC"' in output


def test_console_backend_defaults_to_stdout(capsys):
    assert ConsoleBackend().send(phone=PHONE_OK, text="你好").ok
    assert "你好" in capsys.readouterr().out


def test_memory_backend_outbox_and_clear():
    MemoryBackend.clear()
    first = MemoryBackend().send(phone="1", text="a")
    second = MemoryBackend().send(phone="2", text="b", template_code="T", params={"x": 1})
    assert first.ok and second.ok and first.provider_id != second.provider_id
    assert [m["phone"] for m in MemoryBackend.outbox] == ["1", "2"]
    assert MemoryBackend.outbox[1]["params"] == {"x": 1}
    assert MemoryBackend.outbox[1]["template_code"] == "T"
    MemoryBackend.clear()
    assert MemoryBackend.outbox == []


def test_failing_backend():
    result = FailingBackend().send(phone="1", text="a")
    assert result == SmsResult(ok=False, error="短信通道模拟发送失败")


def test_base_backend_is_abstract():
    with pytest.raises(NotImplementedError):
        SmsBackend().send(phone="1", text="a")


def test_load_backend():
    backend = load_backend("couponhub.core.sms_backends.FailingBackend", {"error": "停用"})
    assert isinstance(backend, FailingBackend) and backend.send(phone="1", text="").error == "停用"
    aliyun = load_backend(
        "couponhub.core.sms_backends.AliyunSmsBackend",
        {"access_key_id": "id", "access_key_secret": "sec", "sign_name": "券中心"},
    )
    assert isinstance(aliyun, AliyunSmsBackend) and "sec" not in repr(aliyun)
    for path in ["nope", "no.such.module.Backend", "couponhub.core.sms_backends.Missing"]:
        with pytest.raises(SmsConfigurationError, match="短信通道"):
            load_backend(path, {})
    with pytest.raises(SmsConfigurationError, match="不是短信通道类"):
        load_backend("couponhub.core.sms_backends.SmsResult", {})
    with pytest.raises(SmsConfigurationError, match="配置参数有误"):
        load_backend("couponhub.core.sms_backends.AliyunSmsBackend", {"bogus": 1})


def test_aliyun_config_validation():
    with pytest.raises(SmsConfigurationError, match="配置不完整"):
        AliyunSmsBackend("", "secret", "签名")
    with pytest.raises(SmsConfigurationError, match="地址无效"):
        AliyunSmsBackend("id", "secret", "签名", endpoint="dysmsapi.aliyuncs.com")


# --- signature -----------------------------------------------------------------


def test_signature_matches_documented_example():
    # Worked example from Alibaba Cloud's SMS "signature mechanism" documentation.
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def _encode(value: str) -> str:
    """Independent RFC 3986 encoder used by the stub gateway."""
    unreserved = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
    return "".join(chr(b) if b in unreserved else f"%{b:02X}" for b in value.encode("utf-8"))


def _expected_signature(params: dict[str, str], secret: str) -> str:
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = "GET&%2F&" + _encode(canonical)
    mac = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


# --- stub gateway ----------------------------------------------------------------


class StubGateway:
    def __init__(self, secret: str):
        self.secret = secret
        self.requests: list[dict[str, str]] = []
        self.nonces: set[str] = set()
        self.release = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                gateway.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def reply(self, handler, status, payload):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def handle(self, handler):
        split = urllib.parse.urlsplit(handler.path)
        pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True, strict_parsing=True)
        params = dict(pairs)
        assert len(params) == len(pairs), "duplicate parameters"
        self.requests.append(params)
        request_id = str(uuid.uuid4())
        signature = params.pop("Signature", "")
        problems = []
        if split.path != "/":
            problems.append("path")
        for key, value in {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "RegionId": "cn-hangzhou",
            "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
        }.items():
            if params.get(key) != value:
                problems.append(key)
        stamp = params.get("Timestamp", "")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp):
            problems.append("Timestamp")
        else:
            sent = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
            if abs((dt.datetime.now(dt.UTC) - sent).total_seconds()) > 900:
                problems.append("Timestamp")
        nonce = params.get("SignatureNonce", "")
        if nonce in self.nonces or str(uuid.UUID(nonce)) != nonce:
            problems.append("SignatureNonce")
        self.nonces.add(nonce)
        if problems:
            return self.reply(
                handler, 400, {"Code": "MissingParameter", "Message": ",".join(problems)}
            )
        if signature != _expected_signature(params, self.secret):
            return self.reply(
                handler,
                400,
                {
                    "Code": "SignatureDoesNotMatch",
                    "Message": "Specified signature is not matched with our calculation.",
                    "RequestId": request_id,
                },
            )
        phone = params["PhoneNumbers"]
        if phone == PHONE_SLOW:
            self.release.wait(5)
        if phone == PHONE_BROKEN:
            return self.reply(handler, 502, b"<html>Bad Gateway</html>")
        if phone == PHONE_LIMITED:
            return self.reply(
                handler,
                200,
                {
                    "Code": "isv.BUSINESS_LIMIT_CONTROL",
                    "Message": "触发分钟级流控Permits:1",
                    "RequestId": request_id,
                },
            )
        return self.reply(
            handler,
            200,
            {
                "Code": "OK",
                "Message": "OK",
                "BizId": "900619746936498440^0",
                "RequestId": request_id,
            },
        )


@pytest.fixture
def gateway():
    stub = StubGateway(SECRET)
    stub.thread.start()
    yield stub
    stub.release.set()
    stub.server.shutdown()
    stub.server.server_close()


def make_backend(gateway, secret=SECRET, timeout=2):
    return AliyunSmsBackend(
        access_key_id="LTAI-test",
        access_key_secret=secret,
        sign_name="券中心",
        endpoint=gateway.url,
        timeout=timeout,
        proxies={},  # talk to 127.0.0.1 directly whatever the environment says
    )


def test_aliyun_success(gateway):
    result = make_backend(gateway).send(
        phone=PHONE_OK,
        text="ignored",
        template_code="SMS_123",
        params={"code": "AB 12*~", "name": "张三", "amount": 20},
    )
    assert result == SmsResult(ok=True, provider_id="900619746936498440^0")
    received = gateway.requests[-1]
    assert received["AccessKeyId"] == "LTAI-test"
    assert received["SignName"] == "券中心"
    assert received["TemplateCode"] == "SMS_123"
    assert json.loads(received["TemplateParam"]) == {
        "code": "AB 12*~",
        "name": "张三",
        "amount": "20",
    }


def test_aliyun_nonce_is_fresh_per_request(gateway):
    backend = make_backend(gateway)
    assert backend.send(phone=PHONE_OK, text="", template_code="SMS_1").ok
    assert backend.send(phone=PHONE_OK, text="", template_code="SMS_1").ok
    assert "TemplateParam" not in gateway.requests[-1]
    assert gateway.requests[0]["SignatureNonce"] != gateway.requests[1]["SignatureNonce"]


def test_aliyun_provider_error(gateway):
    result = make_backend(gateway).send(phone=PHONE_LIMITED, text="", template_code="SMS_1")
    assert not result.ok
    assert "isv.BUSINESS_LIMIT_CONTROL" in result.error and "触发分钟级流控" in result.error
    assert result.error.startswith("阿里云短信发送失败")


def test_aliyun_bad_signature_is_rejected(gateway):
    result = make_backend(gateway, secret="wrong-secret").send(
        phone=PHONE_OK, text="", template_code="SMS_1"
    )
    assert not result.ok
    assert "SignatureDoesNotMatch" in result.error and "HTTP 400" in result.error


def test_aliyun_timeout(gateway):
    result = make_backend(gateway, timeout=0.3).send(
        phone=PHONE_SLOW, text="", template_code="SMS_1"
    )
    assert result == SmsResult(ok=False, error="短信网关请求超时（0.3秒）")


def test_aliyun_non_json_http_error(gateway):
    result = make_backend(gateway).send(phone=PHONE_BROKEN, text="", template_code="SMS_1")
    assert not result.ok and "HTTP 502" in result.error


def test_aliyun_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = AliyunSmsBackend(
        "id", "secret", "签名", endpoint=f"http://127.0.0.1:{port}/", timeout=1, proxies={}
    )
    result = backend.send(phone=PHONE_OK, text="", template_code="SMS_1")
    assert not result.ok and result.error.startswith("无法连接短信网关")


def test_aliyun_requires_template_without_network():
    backend = AliyunSmsBackend("id", "secret", "签名", endpoint="http://127.0.0.1:9/", proxies={})
    result = backend.send(phone=PHONE_OK, text="纯文本短信")
    assert not result.ok and "模板编号" in result.error


@pytest.mark.parametrize(
    "body",
    [
        b'{"Code":"OK","BizId":"a\\u0000b"}',
        b'{"Code":"isv.X","Message":"\\u0000\\ud800","RequestId":"r\\u0000"}',
    ],
)
def test_aliyun_text_postgresql_cannot_store_is_dropped(body):
    # the gateway's BizId and Message are saved on the message; a NUL or a lone surrogate in them
    # would stop the delivery task at the save (DataError / UnicodeEncodeError)
    result = AliyunSmsBackend._interpret(200 if b"OK" in body else 400, body)
    for text in (result.provider_id, result.error):
        assert "\x00" not in text
        text.encode("utf-8")
