"""Payment backends for account top-ups (SMS and red-packet accounts, seed 002 §1.3 and §6.2:
"系统支持微信支付充值").

settings.PICKUP_PAYMENT_BACKEND names the class (dotted path), settings.PICKUP_PAYMENT_OPTIONS
its keyword arguments. Only the transport lives here; what a paid order does is
`pickup.services.payments`. A backend

- `create_native_order(...)` asks the provider for a Native (scan-to-pay) order and returns the
  URL the QR code carries; trouble raises PaymentError with a Chinese sentence;
- `parse_notice(headers, body)` verifies a payment notice and returns what it says; a notice
  that does not verify raises NoticeRejected. Nothing but a verified notice marks an order paid.

WechatPayNativeBackend follows WeChat Pay API v3: requests signed with the merchant's RSA key
(SHA256-RSA2048, PKCS#1 v1.5), answers and notices verified with the platform's public key, the
notice's resource decrypted with AES-256-GCM under the APIv3 key. All of it through
`cryptography`'s own classes (RSA sign/verify, AESGCM), nothing built from primitives.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core import signing
from django.utils.module_loading import import_string

NOTICE_MAX_AGE = 300  # seconds a notice's timestamp may be off, as the API's replay guard


class PaymentError(Exception):
    """The provider did not take the order; the message is for the operator (Chinese)."""


class NoticeRejected(Exception):
    """A notice that does not verify (signature, age, decryption, merchant)."""


@dataclass(frozen=True)
class PaymentNotice:
    out_trade_no: str
    transaction_id: str
    trade_state: str  # "SUCCESS" when paid
    amount_fen: int
    paid_at: dt.datetime | None = None


class PaymentBackend:
    can_simulate = False

    def create_native_order(
        self, *, out_trade_no: str, amount_fen: int, description: str, notify_url: str
    ) -> str:
        raise NotImplementedError

    def parse_notice(self, *, headers: dict[str, str], body: bytes) -> PaymentNotice:
        raise NotImplementedError


class RecordingBackend(PaymentBackend):
    """Development and tests: takes every order (remembered in `orders`) with a QR URL that pays
    nothing. Outside production a person pays it with the page's 模拟支付 button, which makes a
    notice signed with Django's signing (SECRET_KEY): it goes through the same verification as a
    real one. In production nothing can pay it."""

    orders: ClassVar[list[dict]] = []
    SALT = "pickup.payment_backends.RecordingBackend"

    @property
    def can_simulate(self) -> bool:
        return not getattr(settings, "PRODUCTION", False)

    def __init__(self, **_ignored):
        pass

    def create_native_order(self, *, out_trade_no, amount_fen, description, notify_url) -> str:
        type(self).orders.append(
            {
                "out_trade_no": out_trade_no,
                "amount_fen": amount_fen,
                "description": description,
                "notify_url": notify_url,
            }
        )
        return f"weixin://wxpay/bizpayurl?pr=REC-{out_trade_no}"

    def simulate_notice(self, *, out_trade_no: str, amount_fen: int) -> tuple[dict, bytes]:
        payload = {
            "out_trade_no": out_trade_no,
            "transaction_id": f"REC{secrets.token_hex(8).upper()}",
            "trade_state": "SUCCESS",
            "amount_fen": amount_fen,
        }
        return {"Content-Type": "text/plain"}, signing.dumps(payload, salt=self.SALT).encode()

    def parse_notice(self, *, headers, body) -> PaymentNotice:
        try:
            payload = signing.loads(body.decode("ascii"), salt=self.SALT, max_age=NOTICE_MAX_AGE)
        except (signing.BadSignature, UnicodeDecodeError) as exc:
            raise NoticeRejected("支付通知验签失败") from exc
        return PaymentNotice(
            out_trade_no=payload["out_trade_no"],
            transaction_id=payload["transaction_id"],
            trade_state=payload["trade_state"],
            amount_fen=int(payload["amount_fen"]),
        )


# ---------------------------------------------------------------------------
# WeChat Pay API v3, Native (扫码支付)
# ---------------------------------------------------------------------------


def _text(value) -> str:
    """Notice text as PostgreSQL can store it: no NUL, a lone surrogate replaced."""
    return str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _header(headers: dict[str, str], name: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name.lower(), "")


def sign_message(private_key: rsa.RSAPrivateKey, message: str) -> str:
    """Base64 of SHA256-RSA (PKCS#1 v1.5) over `message`, as WeChat Pay v3 signs."""
    return base64.b64encode(
        private_key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    ).decode("ascii")


def verify_message(public_key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        public_key.verify(
            base64.b64decode(signature, validate=True),
            message,
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


class WechatPayNativeBackend(PaymentBackend):
    MAX_RESPONSE_BYTES = 64 * 1024
    PATH = "/v3/pay/transactions/native"

    def __init__(
        self,
        mchid: str = "",
        appid: str = "",
        merchant_serial_no: str = "",
        merchant_private_key: str = "",
        api_v3_key: str = "",
        platform_public_key: str = "",
        platform_serial_no: str = "",
        endpoint: str = "https://api.mch.weixin.qq.com",
        timeout: float = 10,
        proxies: dict[str, str] | None = None,
    ):
        """Keys are PEM texts; `api_v3_key` is the 32-character APIv3 key. `proxies` goes to
        urllib's ProxyHandler (None: the environment's, {}: none)."""
        missing = [
            name
            for name, value in [
                ("mchid", mchid),
                ("appid", appid),
                ("merchant_serial_no", merchant_serial_no),
                ("merchant_private_key", merchant_private_key),
                ("api_v3_key", api_v3_key),
                ("platform_public_key", platform_public_key),
            ]
            if not value
        ]
        if missing:
            raise ValueError(f"微信支付配置不完整：缺少{'、'.join(missing)}")
        if len(api_v3_key.encode()) != 32:
            raise ValueError("微信支付配置有误：APIv3密钥须为32个字符")
        self.mchid, self.appid = mchid, appid
        self.merchant_serial_no = merchant_serial_no
        self.private_key = serialization.load_pem_private_key(
            merchant_private_key.encode(), password=None
        )
        self.platform_key = serialization.load_pem_public_key(platform_public_key.encode())
        self.platform_serial_no = platform_serial_no
        self.aead = AESGCM(api_v3_key.encode())
        self.endpoint = endpoint.rstrip("/")
        self.timeout = float(timeout)
        handlers = [] if proxies is None else [urllib.request.ProxyHandler(proxies)]
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:  # never show a key
        return f"<WechatPayNativeBackend mchid={self.mchid!r} endpoint={self.endpoint!r}>"

    def authorization(self, method: str, path: str, body: str) -> str:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = sign_message(
            self.private_key, f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"
        )
        return (
            f'WECHATPAY2-SHA256-RSA2048 mchid="{self.mchid}",nonce_str="{nonce}",'
            f'signature="{signature}",timestamp="{timestamp}",serial_no="{self.merchant_serial_no}"'
        )

    def _verify(self, headers: dict[str, str], body: bytes) -> None:
        """The platform's signature over timestamp, nonce and body, and the timestamp's age."""
        timestamp = _header(headers, "Wechatpay-Timestamp")
        nonce = _header(headers, "Wechatpay-Nonce")
        signature = _header(headers, "Wechatpay-Signature")
        serial = _header(headers, "Wechatpay-Serial")
        digits = timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12
        if not (digits and nonce and signature):
            raise NoticeRejected("微信支付签名信息不完整")
        if abs(time.time() - int(timestamp)) > NOTICE_MAX_AGE:
            raise NoticeRejected("微信支付签名时间已过期")
        if self.platform_serial_no and serial != self.platform_serial_no:
            raise NoticeRejected("微信支付平台证书序列号不符")
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        if not verify_message(self.platform_key, message, signature):
            raise NoticeRejected("微信支付验签失败")

    def create_native_order(self, *, out_trade_no, amount_fen, description, notify_url) -> str:
        body = json.dumps(
            {
                "appid": self.appid,
                "mchid": self.mchid,
                "description": description[:127],
                "out_trade_no": out_trade_no,
                "notify_url": notify_url,
                "amount": {"total": amount_fen, "currency": "CNY"},
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        request = urllib.request.Request(
            self.endpoint + self.PATH,
            data=body.encode("utf-8"),
            method="POST",
            headers={
                "Authorization": self.authorization("POST", self.PATH, body),
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "CouponHub",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, headers = response.status, dict(response.headers.items())
                raw = response.read(self.MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            with exc:
                raw = exc.read(self.MAX_RESPONSE_BYTES)
            try:
                detail = json.loads(raw.decode("utf-8")).get("message", "")
            except (UnicodeDecodeError, ValueError, AttributeError):
                detail = ""
            raise PaymentError(
                f"微信支付下单失败：{detail or '未知错误'}（HTTP {exc.code}）"
            ) from exc
        except TimeoutError as exc:
            raise PaymentError(f"微信支付下单超时（{self.timeout:g}秒）") from exc
        except urllib.error.URLError as exc:
            raise PaymentError(f"无法连接微信支付：{exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise PaymentError(f"微信支付通信失败：{exc}") from exc
        try:
            self._verify(headers, raw)
        except NoticeRejected as exc:
            raise PaymentError(f"微信支付应答验签失败：{exc}") from exc
        try:
            code_url = json.loads(raw.decode("utf-8"))["code_url"]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise PaymentError(f"微信支付返回了无法解析的应答（HTTP {status}）") from exc
        return str(code_url)

    def parse_notice(self, *, headers, body) -> PaymentNotice:
        self._verify(headers, body)
        try:
            notice = json.loads(body.decode("utf-8"))
            resource = notice["resource"]
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise NoticeRejected("微信支付通知的加密算法不是AEAD_AES_256_GCM")
            plain = self.aead.decrypt(
                resource["nonce"].encode(),
                base64.b64decode(resource["ciphertext"]),
                (resource.get("associated_data") or "").encode() or None,
            )
            transaction = json.loads(plain.decode("utf-8"))
        except InvalidTag as exc:
            raise NoticeRejected("微信支付通知解密失败") from exc
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NoticeRejected("微信支付通知格式有误") from exc
        if transaction.get("mchid") != self.mchid or transaction.get("appid") != self.appid:
            raise NoticeRejected("微信支付通知的商户号或应用号不符")
        paid_at = None
        if success_time := transaction.get("success_time"):
            try:
                paid_at = dt.datetime.fromisoformat(success_time)
            except (TypeError, ValueError):
                paid_at = None
            if paid_at is not None and paid_at.tzinfo is None:
                paid_at = None  # WeChat writes an offset; without one the time means nothing sure
        amount = transaction.get("amount")
        total = amount.get("total") if isinstance(amount, dict) else None
        if not isinstance(total, int) or isinstance(total, bool):
            raise NoticeRejected("微信支付通知的金额格式有误")
        return PaymentNotice(
            out_trade_no=_text(transaction.get("out_trade_no", ""))[:64],
            transaction_id=_text(transaction.get("transaction_id", ""))[:64],
            trade_state=_text(transaction.get("trade_state", ""))[:32],
            amount_fen=total,
            paid_at=paid_at,
        )


DEFAULT_BACKEND = "pickup.payment_backends.RecordingBackend"


def backend_path() -> str:
    return getattr(settings, "PICKUP_PAYMENT_BACKEND", "") or DEFAULT_BACKEND


@cache
def _load(path: str, options_json: str) -> PaymentBackend:
    return import_string(path)(**json.loads(options_json))


def get_backend() -> PaymentBackend:
    """One backend per path and options (settings may change in tests)."""
    options = getattr(settings, "PICKUP_PAYMENT_OPTIONS", {}) or {}
    options = {k: v for k, v in options.items() if v not in ("", None)}
    return _load(backend_path(), json.dumps(options, sort_keys=True))
