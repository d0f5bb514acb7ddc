"""Local stub HTTP servers standing in for the outside providers pickup talks to."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class StubServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) whose requests go to `handle`."""

    def __init__(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                stub.handle(self, b"")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                stub.handle(self, self.rfile.read(length))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def reply(handler, status: int, payload, headers: dict | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def handle(self, handler, body: bytes) -> None:
        raise NotImplementedError


class Kuaidi100Stub(StubServer):
    """快递100's 实时查询: checks the form's MD5 signature (param + key + customer, upper hex)
    and answers from `parcels` ({number: (state, events)}); an unknown number gets the
    provider's 'no result' answer."""

    def __init__(self, customer: str, key: str):
        super().__init__()
        self.customer, self.key = customer, key
        self.parcels: dict[str, tuple[str, list[dict]]] = {}
        self.requests: list[dict] = []

    def handle(self, handler, body):
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if handler.path != "/poll/query.do" or handler.command != "POST":
            return self.reply(handler, 404, b"not found")
        expected = hashlib.md5(
            (form.get("param", "") + self.key + form.get("customer", "")).encode()
        ).hexdigest()
        if form.get("customer") != self.customer or form.get("sign") != expected.upper():
            return self.reply(
                handler, 200, {"result": False, "returnCode": "503", "message": "验证签名失败"}
            )
        param = json.loads(form["param"])
        self.requests.append(param)
        if param["num"] not in self.parcels:
            return self.reply(
                handler,
                200,
                {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"},
            )
        state, events = self.parcels[param["num"]]
        return self.reply(
            handler,
            200,
            {
                "message": "ok",
                "nu": param["num"],
                "ischeck": "1" if state == "3" else "0",
                "com": param["com"],
                "status": "200",
                "state": state,
                "data": events,
            },
        )


class WechatPayStub(StubServer):
    """WeChat Pay API v3's Native order endpoint and its payment notices.

    It checks each request's WECHATPAY2-SHA256-RSA2048 signature with the merchant's public key,
    signs its answers with the platform's private key, and makes (and sends) payment notices
    whose resource is encrypted with AES-256-GCM under the APIv3 key, as WeChat Pay does."""

    PATH = "/v3/pay/transactions/native"

    def __init__(
        self,
        *,
        mchid,
        appid,
        merchant_public_key,
        platform_private_key,
        platform_serial,
        api_v3_key,
    ):
        super().__init__()
        self.mchid, self.appid = mchid, appid
        self.merchant_public_key = merchant_public_key
        self.platform_private_key = platform_private_key
        self.platform_serial = platform_serial
        self.api_v3_key = api_v3_key
        self.orders: dict[str, dict] = {}
        self.rejected: list[str] = []

    def signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:

        stamp = str(timestamp or int(time.time()))
        nonce = secrets.token_hex(16)
        message = f"{stamp}\n{nonce}\n".encode() + body + b"\n"
        signature = self.platform_private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": base64.b64encode(signature).decode(),
            "Wechatpay-Serial": self.platform_serial,
        }

    def _authorised(self, handler, body: bytes) -> str:
        """'' when the merchant's signature holds, else why not."""

        scheme, _, rest = (handler.headers.get("Authorization") or "").partition(" ")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if scheme != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != self.mchid:
            return "scheme or mchid"
        if abs(time.time() - int(fields.get("timestamp") or 0)) > 300:
            return "timestamp"
        message = (
            f"POST\n{handler.path}\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode()
            + body
            + b"\n"
        )
        try:
            self.merchant_public_key.verify(
                base64.b64decode(fields.get("signature", "")),
                message,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return "signature"
        return ""

    def handle(self, handler, body):
        if handler.command != "POST" or handler.path != self.PATH:
            return self.reply(handler, 404, {"code": "NOT_FOUND", "message": "not found"})
        if problem := self._authorised(handler, body):
            self.rejected.append(problem)
            return self.reply(handler, 401, {"code": "SIGN_ERROR", "message": "签名错误"})
        order = json.loads(body)
        amount = order.get("amount") or {}
        if (
            order.get("mchid") != self.mchid
            or order.get("appid") != self.appid
            or not isinstance(amount.get("total"), int)
            or amount["total"] <= 0
            or amount.get("currency") != "CNY"
            or not order.get("notify_url", "").startswith("http")
        ):
            return self.reply(handler, 400, {"code": "PARAM_ERROR", "message": "参数错误"})
        self.orders[order["out_trade_no"]] = order
        answer = json.dumps(
            {"code_url": f"weixin://wxpay/bizpayurl?pr=STUB{len(self.orders):04d}"}
        ).encode()
        return self.reply(handler, 200, answer, self.signed_headers(answer))

    def notice(
        self,
        out_trade_no: str,
        *,
        trade_state: str = "SUCCESS",
        amount_fen: int | None = None,
        timestamp: int | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The notice WeChat Pay sends for an order: headers and body."""

        order = self.orders[out_trade_no]
        transaction = {
            "mchid": self.mchid,
            "appid": self.appid,
            "out_trade_no": out_trade_no,
            "transaction_id": f"4200{secrets.randbelow(10**24):024d}",
            "trade_type": "NATIVE",
            "trade_state": trade_state,
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": "2026-11-26T10:34:56+08:00",
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {
                "total": order["amount"]["total"] if amount_fen is None else amount_fen,
                "payer_total": order["amount"]["total"],
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }
        nonce = secrets.token_hex(6)  # 12 characters, as WeChat Pay's nonces
        ciphertext = AESGCM(self.api_v3_key.encode()).encrypt(
            nonce.encode(), json.dumps(transaction).encode(), b"transaction"
        )
        body = json.dumps(
            {
                "id": "EV-2018022511223320873",
                "create_time": "2026-11-26T10:34:57+08:00",
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "associated_data": "transaction",
                    "nonce": nonce,
                },
            }
        ).encode()
        return {
            "Content-Type": "application/json",
            **self.signed_headers(body, timestamp=timestamp),
        }, body

    def send_notice(self, out_trade_no: str, **kwargs) -> tuple[int, bytes]:
        """POST the notice to the order's notify_url, as WeChat Pay does."""

        headers, body = self.notice(out_trade_no, **kwargs)
        request = urllib.request.Request(
            self.orders[out_trade_no]["notify_url"], data=body, headers=headers, method="POST"
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read()
