"""Red-packet payment backends. settings.PICKUP_PAYOUT_BACKEND names the class (dotted path).

A backend's `submit(payout)` hands one payout to the payment provider and returns a
PayoutResult; the payout stays pending until the provider confirms it (status PAID) or refuses it
(FAILED). The default RecordingBackend pays nothing: it records the request and leaves the payout
pending for finance to pay by hand (or for a real provider backend to replace it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PayoutResult:
    status: str  # "pending", "paid" or "failed"
    reference: str = ""
    error: str = ""


class RecordingBackend:
    """Keeps every submitted payout pending; remembers them in memory (tests read `submitted`)."""

    submitted: list[int] = []

    def submit(self, payout) -> PayoutResult:
        type(self).submitted.append(payout.pk)
        return PayoutResult(status="pending", reference=f"REC-{payout.pk}")


DEFAULT_BACKEND = "pickup.payouts.RecordingBackend"


def backend_path() -> str:
    return getattr(settings, "PICKUP_PAYOUT_BACKEND", DEFAULT_BACKEND) or DEFAULT_BACKEND


@cache
def _load(path: str):
    return import_string(path)()


def get_backend():
    return _load(backend_path())
