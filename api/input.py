"""What enters through the API is checked once, at the edge, before any schema or service sees
it: the body must be UTF-8 JSON no deeper than MAX_DEPTH, and every text in it must be storable
(no NUL, no lone surrogate) and at most MAX_TEXT characters. Refusals name the field and never
repeat more than a short prefix of what was sent. Schema errors become Chinese sentences too."""

import json

from ninja.parser import Parser

from couponhub.core.errors import Refused

MAX_DEPTH = 20
MAX_TEXT = 2_000
ECHO = 20  # characters of a refused value that a message may repeat


class CheckedJsonParser(Parser):
    def parse_body(self, request):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("invalid_body", "请求体不是 UTF-8 编码的 JSON", 400) from None
        try:
            data = json.loads(text)
        except RecursionError:
            raise Refused("invalid_body", f"请求体嵌套过深（最多{MAX_DEPTH}层）", 400) from None
        except json.JSONDecodeError as exc:
            raise Refused(
                "invalid_body", f"请求体不是有效的 JSON（第{exc.lineno}行第{exc.colno}列）", 400
            ) from None
        check_texts(data)
        return data


def check_texts(value, path: str = "", depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise Refused("invalid_body", f"请求体嵌套过深（最多{MAX_DEPTH}层）", 400)
    if isinstance(value, dict):
        for key, item in value.items():
            check_texts(key, path or "body", depth + 1)
            check_texts(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_texts(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, str):
        _check_text(value, path or "body")


def _check_text(text: str, field: str) -> None:
    if len(text) > MAX_TEXT:
        raise Refused("invalid_request", f"{field}：内容过长（最多{MAX_TEXT}个字符）", 400)
    if "\x00" in text:
        raise Refused("invalid_request", f"{field}：不能包含空字符（NUL）", 400)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(
            "invalid_request", f"{field}：包含无效的 Unicode 字符（单独的代理项）", 400
        ) from None


# pydantic's error types, as a sentence after the field's name
_SCHEMA_MESSAGES = {
    "missing": "必填",
    "string_type": "必须是文本",
    "string_too_short": "不能少于{min_length}个字符",
    "string_too_long": "不能超过{max_length}个字符",
    "too_short": "至少需要{min_length}项",
    "too_long": "最多{max_length}项",
    "bool_type": "必须是 true 或 false",
    "bool_parsing": "必须是 true 或 false",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数",
    "decimal_type": "必须是数字",
    "decimal_parsing": "必须是数字",
    "decimal_max_digits": "位数过多（最多{max_digits}位）",
    "decimal_max_places": "最多{decimal_places}位小数",
    "decimal_whole_digits": "整数部分位数过多",
    "float_type": "必须是数字",
    "float_parsing": "必须是数字",
    "greater_than": "必须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "less_than": "必须小于{lt}",
    "less_than_equal": "不能大于{le}",
    "literal_error": "只能是{expected}",
    "enum": "只能是{expected}",
    "list_type": "必须是列表",
    "dict_type": "必须是对象",
    "model_type": "必须是对象",
    "model_attributes_type": "必须是对象",
    "datetime_type": "必须是时间（如 2026-11-26T10:00:00+08:00）",
    "datetime_parsing": "必须是时间（如 2026-11-26T10:00:00+08:00）",
    "datetime_from_date_parsing": "必须是时间（如 2026-11-26T10:00:00+08:00）",
    "date_type": "必须是日期（如 2026-11-26）",
    "date_parsing": "必须是日期（如 2026-11-26）",
    "date_from_datetime_parsing": "必须是日期（如 2026-11-26）",
    "extra_forbidden": "不是可用的参数",
}


def schema_error_message(errors: list[dict]) -> str:
    """E.g. 请求参数不正确：codes[0] 不能超过64个字符；total 必填 — fields named, values not
    repeated."""
    parts = []
    for error in errors[:5]:
        parts.append(f"{_field(error.get('loc', ()))} {_sentence(error)}")
    more = f"等{len(errors)}处" if len(errors) > 5 else ""
    return "请求参数不正确：" + "；".join(parts) + more


def _field(loc) -> str:
    # ninja's locations start with where the value came from and the parameter's name
    names = [str(p) for p in loc]
    if names[:1] in (["body"], ["query"], ["path"]):
        names = names[2:] if names[0] == "body" and len(names) > 2 else names[1:]
    text = ""
    for name in names:
        text += f"[{name}]" if name.isdigit() else (f".{name}" if text else name)
    return text or "请求体"


def _sentence(error: dict) -> str:
    template = _SCHEMA_MESSAGES.get(error.get("type", ""), "格式不正确")
    context = {k: str(v)[:ECHO] for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return (
            _SCHEMA_MESSAGES.get(error.get("type", ""), "格式不正确").split("{")[0] or "格式不正确"
        )
