"""SMS gateway transports.

Only the transport lives here: accounts, balances and send logs belong to the
Django side. Every backend's :meth:`SmsBackend.send` returns an
:class:`SmsResult` and never raises for delivery problems; ``SmsResult.error``
is a Simplified Chinese message suitable for operators.

Plain Python, standard library only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import importlib
import itertools
import json
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar, TextIO

__all__ = [
    "AliyunSmsBackend",
    "ConsoleBackend",
    "FailingBackend",
    "MemoryBackend",
    "SmsBackend",
    "SmsConfigurationError",
    "SmsResult",
    "aliyun_percent_encode",
    "aliyun_signature",
    "load_backend",
]


@dataclass
class SmsResult:
    ok: bool
    provider_id: str = ""
    error: str = ""


class SmsConfigurationError(ValueError):
    """The configured backend cannot be loaded or constructed."""


class SmsBackend:
    """Base class. Subclasses accept their options as keyword arguments."""

    def send(
        self,
        *,
        phone: str,
        text: str,
        template_code: str = "",
        params: dict | None = None,
    ) -> SmsResult:
        raise NotImplementedError


class ConsoleBackend(SmsBackend):
    """Prints each message (default: to the current ``sys.stdout``)."""

    def __init__(self, stream: TextIO | None = None, **_ignored: Any):
        self.stream = stream

    def send(self, *, phone, text, template_code="", params=None) -> SmsResult:
        stream = self.stream if self.stream is not None else sys.stdout
        provider_id = f"console-{uuid.uuid4().hex[:12]}"
        extra = f" 模板={template_code} 参数={json.dumps(params or {}, ensure_ascii=False)}"
        print(
            f"[短信] {provider_id} 发往{phone}：{text}{extra if template_code else ''}", file=stream
        )
        stream.flush()
        return SmsResult(ok=True, provider_id=provider_id)


class MemoryBackend(SmsBackend):
    """Keeps messages in the class-level ``outbox`` (for tests)."""

    outbox: ClassVar[list[dict]] = []
    _counter = itertools.count(1)

    def __init__(self, **_ignored: Any):
        pass

    def send(self, *, phone, text, template_code="", params=None) -> SmsResult:
        provider_id = f"memory-{next(self._counter)}"
        type(self).outbox.append(
            {
                "phone": phone,
                "text": text,
                "template_code": template_code,
                "params": dict(params or {}),
                "provider_id": provider_id,
            }
        )
        return SmsResult(ok=True, provider_id=provider_id)

    @classmethod
    def clear(cls) -> None:
        cls.outbox.clear()


class FailingBackend(SmsBackend):
    """Always fails (for tests)."""

    def __init__(self, error: str = "短信通道模拟发送失败", **_ignored: Any):
        self.error = error

    def send(self, *, phone, text, template_code="", params=None) -> SmsResult:
        return SmsResult(ok=False, error=self.error)


# ---------------------------------------------------------------------------
# Alibaba Cloud (dysmsapi, RPC style, signature version 1.0)
# ---------------------------------------------------------------------------


def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud RPC signing requires.

    Only ``A-Z a-z 0-9 - _ . ~`` stay literal; space becomes ``%20`` (never ``+``),
    ``*`` becomes ``%2A``; UTF-8 bytes become ``%XY``.
    """
    return urllib.parse.quote(str(value), safe="-_.~", encoding="utf-8")


def aliyun_canonical_query(params: dict[str, str]) -> str:
    return "&".join(
        f"{aliyun_percent_encode(key)}={aliyun_percent_encode(params[key])}"
        for key in sorted(params)
    )


def aliyun_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    """Base64(HMAC-SHA1(secret + "&", METHOD&%2F&percentEncode(canonical query)))."""
    canonical = aliyun_canonical_query({k: v for k, v in params.items() if k != "Signature"})
    string_to_sign = f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"
    digest = hmac.new(
        (secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


class AliyunSmsBackend(SmsBackend):
    """Alibaba Cloud SMS ``SendSms`` (API version 2017-05-25) over HTTPS GET.

    Alibaba Cloud only sends approved templates: ``template_code`` is required and
    ``params`` fill the template variables; ``text`` is not transmitted.
    ``proxies`` is passed to :class:`urllib.request.ProxyHandler`; ``None`` uses
    the environment's proxy settings, ``{}`` disables proxies.
    """

    MAX_RESPONSE_BYTES = 64 * 1024

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = "https://dysmsapi.aliyuncs.com/",
        timeout: float = 5,
        region_id: str = "cn-hangzhou",
        proxies: dict[str, str] | None = None,
    ):
        if not access_key_id or not access_key_secret or not sign_name:
            raise SmsConfigurationError(
                "阿里云短信配置不完整：需要AccessKey ID、AccessKey Secret和签名"
            )
        parsed = urllib.parse.urlsplit(endpoint)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SmsConfigurationError(f"阿里云短信接口地址无效：{endpoint}")
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        # The signature covers path "/", so always call the endpoint's root.
        self.endpoint = f"{parsed.scheme}://{parsed.netloc}/"
        self.timeout = timeout
        self.region_id = region_id
        handlers = [] if proxies is None else [urllib.request.ProxyHandler(proxies)]
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:  # never show the secret
        return f"<AliyunSmsBackend key={self.access_key_id!r} endpoint={self.endpoint!r}>"

    def build_params(self, *, phone: str, template_code: str, params: dict | None) -> dict:
        query = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.region_id,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "TemplateCode": template_code,
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        if params:
            template_values = {str(k): "" if v is None else str(v) for k, v in params.items()}
            query["TemplateParam"] = json.dumps(
                template_values, ensure_ascii=False, separators=(",", ":")
            )
        return query

    def signed_url(self, query: dict[str, str]) -> str:
        signature = aliyun_signature(query, self.access_key_secret)
        return (
            f"{self.endpoint}?Signature={aliyun_percent_encode(signature)}"
            f"&{aliyun_canonical_query(query)}"
        )

    def send(self, *, phone, text="", template_code="", params=None) -> SmsResult:
        if not template_code:
            return SmsResult(ok=False, error="阿里云短信必须指定已审核的模板编号（TemplateCode）")
        if not phone:
            return SmsResult(ok=False, error="手机号不能为空")
        try:
            query = self.build_params(phone=phone, template_code=template_code, params=params)
            url = self.signed_url(query)
            status, body = self._get(url)
        except TimeoutError:
            return SmsResult(ok=False, error=f"短信网关请求超时（{self.timeout}秒）")
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                return SmsResult(ok=False, error=f"短信网关请求超时（{self.timeout}秒）")
            return SmsResult(ok=False, error=f"无法连接短信网关：{exc.reason}")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return SmsResult(ok=False, error=f"短信网关通信失败：{exc}")
        except Exception as exc:
            return SmsResult(ok=False, error=f"短信发送出现意外错误：{type(exc).__name__}: {exc}")
        return self._interpret(status, body)

    def _get(self, url: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            url, method="GET", headers={"Accept": "application/json", "User-Agent": "CouponHub"}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read(self.MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            # Alibaba Cloud reports signature/parameter errors as 4xx with a JSON body.
            with exc:
                return exc.code, exc.read(self.MAX_RESPONSE_BYTES)

    @staticmethod
    def _interpret(status: int, body: bytes) -> SmsResult:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            payload = None
        if not isinstance(payload, dict):
            return SmsResult(ok=False, error=f"短信网关返回了无法解析的响应（HTTP {status}）")
        code = _text(payload.get("Code", ""))[:60]
        if status == 200 and code == "OK":
            return SmsResult(ok=True, provider_id=_text(payload.get("BizId", ""))[:100])
        message = _text(payload.get("Message", "")).strip()[:150]
        request_id = _text(payload.get("RequestId", "")).strip()[:60]
        detail = f"{code or '未知错误'}" + (f"：{message}" if message else "")
        suffix = (
            f"（HTTP {status}，RequestId {request_id}）" if request_id else f"（HTTP {status}）"
        )
        return SmsResult(ok=False, error=f"阿里云短信发送失败：{detail}{suffix}")


# ---------------------------------------------------------------------------


def _text(value) -> str:
    """Gateway text as PostgreSQL can store it: no NUL, a lone surrogate (JSON may escape one)
    replaced."""
    return str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def load_backend(dotted_path: str, options: dict | None = None) -> SmsBackend:
    """Instantiate ``package.module.ClassName`` with ``**options``."""
    module_path, _, class_name = (dotted_path or "").rpartition(".")
    if not module_path:
        raise SmsConfigurationError(f"短信通道路径无效：{dotted_path!r}")
    try:
        module = importlib.import_module(module_path)
        backend_class = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise SmsConfigurationError(f"无法加载短信通道：{dotted_path}") from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, SmsBackend)):
        raise SmsConfigurationError(f"{dotted_path}不是短信通道类（需继承SmsBackend）")
    try:
        return backend_class(**(options or {}))
    except TypeError as exc:
        raise SmsConfigurationError(f"短信通道{dotted_path}的配置参数有误：{exc}") from exc
