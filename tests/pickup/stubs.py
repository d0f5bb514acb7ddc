"""Local stub HTTP servers standing in for the outside providers pickup talks to."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
