"""Every page carries the Content-Security-Policy and says Cache-Control: private, no-store; no
template of ours holds what that policy would block (inline script, on…= handler, style=)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from couponhub.core.models import User
from pickup.models import PickupCode, PickupOrder

REPO = Path(settings.BASE_DIR)
SKIP_DIRS = {".venv", "node_modules", "var", ".git", "tests"}


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    policy = {}
    for part in header.split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


def assert_headers(response, what: str) -> None:
    assert response.status_code == 200, (what, response.status_code)
    policy = _policy(response)
    assert policy.get("script-src") == ["'self'"], (what, policy)
    assert "'unsafe-inline'" not in policy.get("style-src", []), what
    assert policy.get("default-src") == ["'self'"], what
    assert policy.get("frame-ancestors") == ["'none'"], what
    assert policy.get("object-src") == ["'none'"], what
    assert policy.get("form-action") == ["'self'"], what
    assert policy.get("base-uri") == ["'self'"], what
    cache = {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= cache, (what, cache)


@pytest.mark.django_db
def test_pages_of_every_role_carry_the_policy_and_are_not_cached():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    def as_user(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    clerk, operator, manager = as_user("clerk"), as_user("operator"), as_user("manager")
    order = PickupOrder.objects.filter(kind="online").order_by("pk").first()
    pages = [
        (Client(), reverse("login")),
        (clerk, reverse("redemption:lookup") + "?q=17700000516"),
        (clerk, reverse("redemption:records")),
        (operator, reverse("pickup:order_detail", args=[order.pk])),
        (operator, reverse("pickup:red_packet_claims")),
        (operator, reverse("promocodes:create")),
        (operator, reverse("promocodes:applications")),
        (manager, reverse("pickup:store_orders")),
    ]
    for client, url in pages:
        assert_headers(client.get(url), url)

    # the consumer's pages, from the code with a red packet to the order page that offers it
    consumer = Client()
    code = PickupCode.objects.filter(red_packet_amount__gt=0, orders__isnull=True).first()
    assert_headers(consumer.get(reverse("pickup:consumer_code", args=[code.code])), "start")
    consumer.post(reverse("pickup:consumer_start"), {"code": code.code, "password": code.password})
    assert_headers(consumer.get(reverse("pickup:consumer_card")), "card")
    placed = consumer.post(
        reverse("pickup:consumer_card"),
        {
            "kind": "online",
            "name": "王小二",
            "phone": "13912345678",
            "province": "北京市",
            "city": "北京市",
            "district": "朝阳区",
            "address": "朝阳公园路6号",
            "products": [i.product_id for i in code.card_type.items.all()],
        },
    )
    assert placed.status_code == 302, placed.content.decode()[:2000]
    order_page = consumer.get(placed.url)
    assert_headers(order_page, "consumer order")
    assert "pickup-consumer-claim.js" in order_page.content.decode()


@pytest.mark.django_db
def test_a_view_that_sets_its_own_cache_control_keeps_it(client):
    # LoginView is never_cache: Django's own header stays as it is (it also says private, no-store)
    response = client.get(reverse("login"))
    assert "max-age=0" in response.headers["Cache-Control"]


def _our_files(suffix: str):
    for path in REPO.rglob(f"*{suffix}"):
        parts = set(path.relative_to(REPO).parts)
        if not parts & SKIP_DIRS and "migrations" not in parts:
            yield path


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
# an attribute inside a tag: a space, then on<event>= or style=
HANDLER = re.compile(r"<[a-zA-Z][^<>]*\s(on[a-z]+|style)\s*=", re.I)


def _offences(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in SCRIPT.finditer(text):
        attrs, body = match.groups()
        if "application/json" in attrs:
            continue  # data, never executed
        if "src=" not in attrs or body.strip():
            found.append(f"inline <script>: {match.group(0)[:60]!r}")
    found += [f"{m.group(1)}= attribute: {m.group(0)[-60:]!r}" for m in HANDLER.finditer(text)]
    if re.search(r"""["']\s*javascript:""", text, re.I):
        found.append("javascript: URL")
    return found


def test_no_template_holds_inline_script_handlers_or_style_attributes():
    templates = list(_our_files(".html"))
    assert len(templates) > 50  # the walk did find the templates
    offences = {str(p.relative_to(REPO)): o for p in templates if (o := _offences(p))}
    assert offences == {}


def test_no_python_html_snippet_holds_them_either():
    # format_html / mark_safe fragments (e.g. promocodes/tables.py) reach the page too
    offences = {}
    for path in _our_files(".py"):
        text = path.read_text(encoding="utf-8")
        found = [m.group(0)[-60:] for m in HANDLER.finditer(text)]
        found += [m.group(0)[:60] for m in SCRIPT.finditer(text)]
        if found:
            offences[str(path.relative_to(REPO))] = found
    assert offences == {}


def test_the_scan_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "t.html"
    sample.write_text(
        '<script>alert(1)</script><script src="/static/js/x.js"></script>'
        '<button class="b" onclick="go()">x</button><div style="width:1%"></div>'
        '<a href="javascript:void(0)">y</a><script type="application/json">{}</script>'
    )
    found = _offences(sample)
    assert len(found) == 4, found
