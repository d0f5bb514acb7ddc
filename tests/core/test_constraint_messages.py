"""A constraint a person can run into speaks Chinese and names the field, never its own name."""

import pytest
from django.apps import apps
from django.utils import translation

OURS = {
    "core",
    "products",
    "members",
    "coupons",
    "redemption",
    "pickup",
    "promocodes",
    "reports",
    "api",
}


def _constraints():
    for model in apps.get_models():
        if model._meta.app_label in OURS:
            for constraint in model._meta.constraints:
                yield pytest.param(model, constraint, id=f"{model._meta.label}.{constraint.name}")


@pytest.mark.parametrize(("model", "constraint"), list(_constraints()))
def test_every_constraint_has_a_chinese_message_naming_the_field(model, constraint):
    assert constraint.violation_error_message != constraint.default_violation_error_message
    with translation.override("zh-hans"):
        message = constraint.get_violation_error_message()
    assert constraint.name not in message
    assert "：" in message, "the message starts with the field it is about"
    assert message.isascii() is False, f"{message!r} has no Chinese"
