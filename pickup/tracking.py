"""Courier tracking backends: is a shipped parcel signed for yet? (seed 002 §5.1: 已完成 is set
automatically once the consumer signs for the parcel.)

settings.PICKUP_TRACKING_BACKEND names the class (dotted path) and
settings.PICKUP_TRACKING_OPTIONS its keyword arguments. A backend's `query(...)` returns a
TrackingResult and never raises for a provider's or the network's trouble: the result's state is
then "error" with a Chinese sentence for the operator. Only the transport lives here (standard
library only); what an answer does to an order is `pickup.services.tracking`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import cache
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.module_loading import import_string

SIGNED = "signed"
IN_TRANSIT = "in_transit"
PROBLEM = "problem"  # returned, refused, stuck: a person should look
ERROR = "error"  # the query itself failed; ask again later

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class TrackingResult:
    state: str
    detail: str = ""  # the latest event, or why the query failed
    signed_at: dt.datetime | None = None


class TrackingBackend:
    def query(self, *, courier_code: str, tracking_no: str, phone: str = "") -> TrackingResult:
        raise NotImplementedError


class RecordingBackend(TrackingBackend):
    """Development and tests: remembers every query (`queries`) and answers from `parcels`
    ({tracking_no: TrackingResult}); a parcel it does not know is in transit."""

    queries: ClassVar[list[dict]] = []
    parcels: ClassVar[dict[str, TrackingResult]] = {}

    def __init__(self, **_ignored):
        pass

    def query(self, *, courier_code, tracking_no, phone="") -> TrackingResult:
        type(self).queries.append(
            {"courier_code": courier_code, "tracking_no": tracking_no, "phone": phone}
        )
        return type(self).parcels.get(
            tracking_no, TrackingResult(IN_TRANSIT, "运输中（开发环境：未查询快递公司）")
        )

    @classmethod
    def clear(cls) -> None:
        cls.queries.clear()
        cls.parcels.clear()


# ---------------------------------------------------------------------------
# 快递100 实时查询 (https://poll.kuaidi100.com/poll/query.do)
# ---------------------------------------------------------------------------

# The standard courier codes the courier pages ask for → 快递100's company codes. A code not
# listed is sent as it is, lower-cased (an operator may type 快递100's own code).
KUAIDI100_COMPANIES = {
    "SF": "shunfeng",
    "YTO": "yuantong",
    "ZTO": "zhongtong",
    "STO": "shentong",
    "YD": "yunda",
    "JD": "jd",
    "EMS": "ems",
    "YZPY": "youzhengguonei",
    "HTKY": "huitongkuaidi",
    "DBL": "debangwuliu",
    "JTSD": "jtexpress",
    "ZJS": "zhaijisong",
}
# 快递100 states: 3 签收; 4 退签, 6 退回, 14 拒签, 2 疑难 need a person; the rest are on the way.
KUAIDI100_SIGNED = {"3"}
KUAIDI100_PROBLEM = {"2", "4", "6", "14"}


def kuaidi100_sign(param: str, key: str, customer: str) -> str:
    """The provider's request signature: upper-case hex MD5 of param + key + customer."""
    return hashlib.md5((param + key + customer).encode("utf-8")).hexdigest().upper()


class Kuaidi100Backend(TrackingBackend):
    MAX_RESPONSE_BYTES = 256 * 1024

    def __init__(
        self,
        customer: str = "",
        key: str = "",
        endpoint: str = "https://poll.kuaidi100.com/poll/query.do",
        timeout: float = 10,
        proxies: dict[str, str] | None = None,
    ):
        """`proxies` goes to urllib's ProxyHandler: None uses the environment's, {} none."""
        if not customer or not key:
            raise ValueError("快递100配置不完整：需要customer和授权key")
        parsed = urllib.parse.urlsplit(endpoint)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"快递100接口地址无效：{endpoint}")
        self.customer = customer
        self.key = key
        self.endpoint = endpoint
        self.timeout = float(timeout)
        handlers = [] if proxies is None else [urllib.request.ProxyHandler(proxies)]
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:  # never show the key
        return f"<Kuaidi100Backend customer={self.customer!r} endpoint={self.endpoint!r}>"

    def build_form(self, *, courier_code: str, tracking_no: str, phone: str = "") -> dict:
        company = KUAIDI100_COMPANIES.get(courier_code.upper(), courier_code.lower())
        param = json.dumps(
            {
                "com": company,
                "num": tracking_no,
                # 顺丰 and a few others answer only with the recipient's phone
                "phone": phone,
                "resultv2": "0",
                "show": "0",
                "order": "desc",
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return {
            "customer": self.customer,
            "sign": kuaidi100_sign(param, self.key, self.customer),
            "param": param,
        }

    def query(self, *, courier_code, tracking_no, phone="") -> TrackingResult:
        form = self.build_form(courier_code=courier_code, tracking_no=tracking_no, phone=phone)
        body = urllib.parse.urlencode(form).encode("utf-8")
        request = urllib.request.Request(
            self.endpoint,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "User-Agent": "CouponHub",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read(self.MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            with exc:
                return TrackingResult(ERROR, f"快递100查询失败（HTTP {exc.code}）")
        except TimeoutError:
            return TrackingResult(ERROR, f"快递100查询超时（{self.timeout:g}秒）")
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                return TrackingResult(ERROR, f"快递100查询超时（{self.timeout:g}秒）")
            return TrackingResult(ERROR, f"无法连接快递100：{exc.reason}")
        except (OSError, http.client.HTTPException) as exc:
            return TrackingResult(ERROR, f"快递100通信失败：{exc}")
        return self.interpret(status, raw)

    @staticmethod
    def interpret(status: int, raw: bytes) -> TrackingResult:
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            payload = None
        if not isinstance(payload, dict):
            return TrackingResult(ERROR, f"快递100返回了无法解析的响应（HTTP {status}）")
        if payload.get("result") is False or str(payload.get("status", "")) != "200":
            code = _text(payload.get("returnCode", "") or payload.get("status", ""))[:20]
            message = _text(payload.get("message", "")).strip()[:100] or "未知错误"
            return TrackingResult(ERROR, f"快递100查询失败：{message}（{code}）")
        data = payload.get("data")
        events = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
        latest = max(events, key=lambda e: str(e.get("time", "")), default={})
        detail = _text(latest.get("context", ""))[:200]
        state = str(payload.get("state", ""))
        if state in KUAIDI100_SIGNED:
            return TrackingResult(SIGNED, detail, _event_time(latest.get("time")))
        if state in KUAIDI100_PROBLEM:
            return TrackingResult(PROBLEM, detail)
        return TrackingResult(IN_TRANSIT, detail)


def _text(value) -> str:
    """Provider text as PostgreSQL can store it: no NUL, a lone surrogate (JSON may escape one)
    replaced."""
    return str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _event_time(value) -> dt.datetime | None:
    """快递100 writes times as 'YYYY-MM-DD HH:MM:SS', China time."""
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None


DEFAULT_BACKEND = "pickup.tracking.RecordingBackend"


def backend_path() -> str:
    return getattr(settings, "PICKUP_TRACKING_BACKEND", "") or DEFAULT_BACKEND


@cache
def _load(path: str, options_json: str) -> TrackingBackend:
    return import_string(path)(**json.loads(options_json))


def get_backend() -> TrackingBackend:
    """One backend per path and options (settings may change in tests)."""
    options = getattr(settings, "PICKUP_TRACKING_OPTIONS", {}) or {}
    options = {k: v for k, v in options.items() if v not in ("", None)}
    return _load(backend_path(), json.dumps(options, sort_keys=True))
