"""Every audit action code a service writes has a Chinese name declared by its app."""

import re
from pathlib import Path

from django.conf import settings

from couponhub.core.audit import action_label, action_labels, object_type_label
from couponhub.core.sms import purpose_label

APPS = [
    "couponhub",
    "members",
    "products",
    "coupons",
    "redemption",
    "pickup",
    "promocodes",
    "reports",
    "api",
    "staff",
    "messaging",
]
LITERAL = re.compile(
    r'"((?:admin|api|audit|core|coupons|job|members|messaging|org|pickup|products|promocodes|'
    r'redemption|reports|role|sms|staff)\.[a-z_.]+)"'
)


def _written_codes() -> set[str]:
    codes = set()
    for app in APPS:
        for path in Path(settings.BASE_DIR, app).rglob("*.py"):
            if "migrations" in path.parts or path.name == "audit_actions.py":
                continue
            text = path.read_text()
            for call in re.finditer(r"action=([^,\n]+(?:\n[^,\n]+)?)", text):
                codes.update(LITERAL.findall(call.group(1)))
    return codes


def test_every_action_a_service_writes_has_a_chinese_name():
    codes = _written_codes()
    assert len(codes) > 60, "the scan finds the services' action codes"
    assert sorted(codes - set(action_labels())) == []


def test_labels_are_chinese_and_no_code_is_shown():
    for code in action_labels():
        label = action_label(code)
        assert label != code and not label.isascii(), code
    assert action_label("pickup.order.create") == "新建提货订单"
    assert action_label("no.such.action") == "其他操作"
    assert object_type_label("pickup.pickuporder") == "提货订单"
    assert purpose_label("redeem_code") == "核销验证码"
