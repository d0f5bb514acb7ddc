"""Where a signed API call spends its time, in one process, with production settings (DEBUG off).

    python -m bench.profile_api                  # CPU, wall time and statements per call
    python -m bench.profile_api --cprofile use   # and cProfile's top functions for `use`
    valgrind --tool=callgrind --dump-before=time_sleep python -m bench.profile_api --calls 50

Each call goes through the whole WSGI application (every middleware, django-ninja, the
signature, the handler, JSON rendering) exactly as gunicorn hands it a request, on the
benches' own data (bench_promocodes, bench_redemption, bench_promocode_hot) in DATABASE_URL,
with REDIS_URL. Not a bench (it has no baseline and reports no goal): a tool to find the time.
`--calls` of each endpoint run after a warm-up; the figures are per call. Each endpoint's calls
are set off by `time.sleep(0)`, so callgrind's `--dump-before=time_sleep` writes one profile
per endpoint (callgrind.out.<pid>.2 the first one's, .3 the next, ...; `callgrind_annotate`):
instruction counts, steady on a busy machine where times are not.
"""

import argparse
import base64
import cProfile
import hashlib
import io
import os
import pstats
import sys
import time

ENDPOINTS = ["ping", "validate", "redeem", "use"]


def _production_environment() -> None:
    # the development defaults of settings.py, so the benches' API clients (whose secrets are
    # sealed under them) open the same way here as in `python -m bench`
    secret_key = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-" + "x" * 40
    master_key = base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode()
    os.environ.update(
        DJANGO_ENV="production",
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECRET_KEY=secret_key,
        FIELD_ENCRYPTION_KEY=os.environ.get("FIELD_ENCRYPTION_KEY") or master_key,
    )
    # the access line is written, as in production (to stderr: send it to /dev/null)
    os.environ.setdefault("LOG_LEVEL", "INFO")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "couponhub.settings")


def _environ(raw: bytes) -> dict:
    """The WSGI environ gunicorn would build from these request bytes."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ")
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().upper().replace("-", "_")
        if key not in {"CONTENT_TYPE", "CONTENT_LENGTH"}:
            key = "HTTP_" + key
        environ[key] = value.strip()
    return environ


def _requests(names: list[str], calls: int) -> dict:
    """Per endpoint asked for, a function giving `calls` fresh signed requests (signed when
    asked: a timestamp is good for 300 s, and callgrind is slow; a redeem needs fresh coupons).
    Only the data those endpoints need is prepared."""
    import json

    from bench import _http, bench_promocode_hot, bench_promocodes, bench_redemption

    items = [
        {"sku": f"SKU{i}", "merchant": "", "category": "", "amount": "19.90"} for i in range(5)
    ]
    run = os.urandom(4).hex().upper()

    def signed(client_id, secret, method, path, body=b"", idempotent=False):
        return _http.signed_request(
            client_id=client_id,
            secret=secret,
            method=method,
            path=path,
            body=body,
            idempotent=idempotent,
        )

    makers = {}
    if {"ping", "validate"} & set(names):
        promo_client, secret = bench_promocodes._prepare(), bench_promocodes.SECRET
        validate_body = json.dumps(
            {
                "code": "BENCH80",
                "user_id": "bench-user",
                "platform": "app",
                "delivery": "delivery",
                "store_code": "BENCH-S",
                "items": items,
            }
        ).encode()
        makers["ping"] = lambda: [
            signed(promo_client, secret, "GET", "/api/v1/ping") for _ in range(calls)
        ]
        makers["validate"] = lambda: [
            signed(promo_client, secret, "POST", "/api/v1/promocodes/validate", validate_body)
            for _ in range(calls)
        ]
    if "redeem" in names:
        redeem_client, store_code, codes = bench_redemption._prepare(2 * calls)
        pairs = list(zip(codes[::2], codes[1::2], strict=True))
        makers["redeem"] = lambda: [
            signed(
                redeem_client,
                bench_redemption.SECRET,
                "POST",
                "/api/v1/coupons/redeem",
                json.dumps({"store_code": store_code, "codes": list(pair)}).encode(),
                idempotent=True,
            )
            for pair in pairs
        ]
    if "use" in names:
        hot_client, scenarios = bench_promocode_hot._prepare()

        def use_body(k):
            body = {
                "code": scenarios["one code"][0],
                "user_id": f"profile-user-{k % 50}",
                "platform": "app",
                "delivery": "delivery",
                "store_code": "BENCH-S",
                "items": items,
                "order_no": f"PROF{run}-{k}",
            }
            return json.dumps(body).encode()

        makers["use"] = lambda: [
            signed(
                hot_client,
                bench_promocode_hot.SECRET,
                "POST",
                "/api/v1/promocodes/use",
                use_body(k),
                idempotent=True,
            )
            for k in range(calls)
        ]
    return makers


def _call(application, raw: bytes) -> int:
    status = []

    def start_response(line, headers, exc_info=None):
        status.append(int(line.split(" ", 1)[0]))

    response = application(_environ(raw), start_response)
    b"".join(response)
    response.close()
    return status[0]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_api")
    parser.add_argument("--calls", type=int, default=300, help="calls of each endpoint")
    parser.add_argument("--only", nargs="*", choices=ENDPOINTS, default=ENDPOINTS)
    parser.add_argument("--cprofile", nargs="*", choices=ENDPOINTS, default=[])
    parser.add_argument("--top", type=int, default=25, help="functions shown by --cprofile")
    args = parser.parse_args()
    _production_environment()
    import django

    django.setup()
    from django.db import connection

    from couponhub.wsgi import application

    warm = 20
    requests = _requests(args.only, args.calls + warm)
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    print(f"{'endpoint':<10} {'calls':>5} {'wall ms':>8} {'CPU ms':>7} {'statements':>10}")
    for name in args.only:
        batch = requests[name]()
        for raw in batch[:warm]:
            assert _call(application, raw) == 200, name
        statements.clear()
        profiler = cProfile.Profile() if name in args.cprofile else None
        time.sleep(0)  # callgrind's boundary (see above)
        wall, cpu = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(count):
            if profiler:
                profiler.enable()
            for raw in batch[warm:]:
                status = _call(application, raw)
                if status != 200:
                    print(f"{name}: HTTP {status}", file=sys.stderr)
                    return 1
            if profiler:
                profiler.disable()
        calls = max(1, len(batch) - warm)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        time.sleep(0)
        per_call = len(statements) / calls
        print(
            f"{name:<10} {calls:>5} {wall * 1000 / calls:>8.2f} {cpu * 1000 / calls:>7.2f} "
            f"{per_call:>10.1f}"
        )
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
            sample = statements[: round(per_call)]
            print("statements of one call:\n  " + "\n  ".join(s[:160] for s in sample))
    return 0


if __name__ == "__main__":
    sys.exit(main())
