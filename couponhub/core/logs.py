"""Log lines: which request or task wrote them, and nothing a reader of the logs must not see.

A request id is set by `couponhub.core.middleware.RequestContextMiddleware` (the caller's
X-Request-ID when it is sane, else a new one), travels in the headers of every Celery task the
request enqueues (`before_task_publish`), is set again while the task runs (`task_prerun`), and
is written into every audit entry (`couponhub.core.audit.record_audit`).

`ContextFilter` sits on the log handler: it adds `request_id` (and `task_id` in a worker) to every
record and masks mainland mobile numbers (177****0516) in the message and any traceback, as a
last line of defence: code logs ids, codes and statuses, never a phone, an SMS text, a password
or a secret. In production (`LOG_FORMAT=json`, the default there) each record is one JSON object
on one line (python-json-logger).
"""

import contextvars
import logging
import re
import uuid

from celery import signals

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_task_id: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")

HEADER = "request_id"  # the Celery message header
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# A mainland mobile number not inside a longer run of digits (an order or card number).
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def request_id_from(header: str | None) -> str:
    """The caller's id when it is a sane token (letters, digits, . _ : -; 8 to 64), else a new
    one, so a log line never carries what a client chose to put in a header."""
    if header and _SANE.fullmatch(header):
        return header
    return uuid.uuid4().hex


def mask(text: str) -> str:
    return _MOBILE.sub(r"\1****\3", text)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.task_id = _task_id.get()
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


@signals.before_task_publish.connect(weak=False)
def _add_request_id(headers=None, **_):
    request_id = _request_id.get()
    if headers is not None and request_id:
        headers.setdefault(HEADER, request_id)


_task_tokens: dict[str, tuple[contextvars.Token, contextvars.Token]] = {}


@signals.task_prerun.connect(weak=False)
def _enter_task(task_id=None, task=None, **_):
    request_id = getattr(task.request, HEADER, None) or _request_id.get()
    _task_tokens[task_id] = (_request_id.set(request_id), _task_id.set(task_id or ""))


@signals.task_postrun.connect(weak=False)
def _leave_task(task_id=None, **_):
    tokens = _task_tokens.pop(task_id, None)
    if tokens:
        try:
            _request_id.reset(tokens[0])
            _task_id.reset(tokens[1])
        except ValueError:  # set in another context (a thread pool); leave it
            pass


@signals.setup_logging.connect(weak=False)
def _celery_uses_django_logging(**_):
    """Workers and beat log through settings.LOGGING (same filter and format as the web)."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
