"""The consumer's code + password check under 50 concurrent clients on PostgreSQL:
`POST /pickup/c/` (CSRF form, right password → 302 to the card page; rate-limit bookkeeping,
advisory lock, password decryption, session write included), next to a no-op page (a 404 through
the same middleware) measured in the same run against the same gunicorn server (DEBUG off)."""

import http.client
import re
import urllib.parse

from bench import _http

CLIENTS = 50
INTERVAL = 1.0  # a consumer at a phone submits far less often; 50 of them → 50 checks/s
GOAL_MS = 50.0


def _prepare(total: int) -> list[tuple[str, str]]:
    from django.core.management import call_command

    from pickup import services
    from pickup.models import CardType, PasswordAttempt, PickupCode, Product

    call_command("migrate", verbosity=0)
    card = CardType.objects.filter(name="压测卡券").first()
    if card is None:
        from pickup.models import Category

        category, _ = Category.objects.get_or_create(name="压测类别")
        product = Product.objects.create(name="压测商品", category=category)
        card = services.save_card_type(
            actor=None, card_type=CardType(name="压测卡券"), items=[(product, 1)], stores=[]
        )
    batch = services.create_code_batch(
        actor=None,
        card_type=card,
        spec=services.GenerationSpec(quantity=total, prefix="BP", code_length=12),
        background=False,
    )
    services.fill_code_batch(batch)
    PasswordAttempt.objects.filter(client_ip="127.0.0.1").delete()
    return [(c.code, c.password) for c in PickupCode.objects.filter(batch=batch)]


def _client_session(conn) -> tuple[str, str]:
    """GET the form once: the csrftoken cookie and the form's token."""
    conn.request("GET", "/pickup/c/")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie", "")
    csrf_cookie = re.search(r"csrftoken=([^;]+)", cookie).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return csrf_cookie, token


def _form_post(code: str, password: str, csrf_cookie: str, token: str) -> bytes:
    """The raw bytes of the consumer's code + password form post."""
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "code": code, "password": password}
    ).encode()
    head = "\r\n".join(
        [
            "POST /pickup/c/ HTTP/1.1",
            "Host: 127.0.0.1",
            "Content-Type: application/x-www-form-urlencoded",
            f"Cookie: csrftoken={csrf_cookie}",
            f"Content-Length: {len(body)}",
        ]
    )
    return (head + "\r\n\r\n").encode() + body


NOOP = b"GET /pickup/noop/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"  # a 404 through all middleware


def run(report, *, quick: bool):
    goal = f"consumer code+password check p95 < {GOAL_MS:.0f} ms @ {CLIENTS} clients"
    closed_per_client = 5 if quick else 20
    duration = 5 if quick else 20
    open_per_client = int(duration / INTERVAL)
    warm = 1
    pairs = iter(_prepare(CLIENTS * (warm + closed_per_client + open_per_client)))

    # One CSRF pair serves every client; a throwaway server hands it out.
    with _http.Server() as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        csrf_cookie, token = _client_session(conn)
        conn.close()

    def checks(n):  # pre-built: each check uses a fresh code, so every one succeeds
        return [
            [_form_post(*next(pairs), csrf_cookie, token) for _ in range(n)] for _ in range(CLIENTS)
        ]

    def noops(n):
        return [[NOOP] * n for _ in range(CLIENTS)]

    _http.compare_under_load(
        report,
        goal=goal,
        goal_ms=GOAL_MS,
        clients=CLIENTS,
        interval=INTERVAL,
        duration=duration,
        closed_per_client=closed_per_client,
        warm=warm,
        subject=checks,
        subject_ok=302,
        baseline=noops,
        baseline_ok=404,
        baseline_label="no-op page (a 404 through the same middleware)",
        built="pre-built",
    )
