"""Activation at sale: cards of a batch sold at the counter work once the sale activates them
(at the store's page, by serial range, or by its POS through the API), and stop working again
when the sale is reversed. Cards already picked up cannot be un-sold."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet

from couponhub.core.audit import record_audit
from couponhub.core.errors import Refused
from couponhub.core.models import Org
from pickup.models import PickupCode
from pickup.services.consumer import normalise_code

MAX_CARDS = 100_000  # one sale or one reversal: a few boxes of cards at most


def _chosen(
    serial_from: int | None, serial_to: int | None, codes: Sequence[str]
) -> tuple[QuerySet[PickupCode], str]:
    """The cards named by their codes (what a POS scans) or a serial range (what a clerk reads
    off the box); and the words that name them in a refusal."""
    if codes:
        wanted = [normalise_code(c) for c in codes]
        found = set(PickupCode.objects.filter(code__in=wanted).values_list("code", flat=True))
        missing = [c for c in wanted if c not in found]
        if missing:
            raise Refused("card_not_found", f"提货卡{missing[0]}不存在", 404)
        return PickupCode.objects.filter(code__in=wanted), f"提货卡{wanted[0]}等{len(wanted)}张"
    if serial_from is None or serial_to is None:
        raise Refused("invalid_request", "请填写起止流水号，或提货卡卡号")
    if serial_to < serial_from:
        raise Refused("invalid_request", "截止流水号不能小于起始流水号")
    if serial_to - serial_from + 1 > MAX_CARDS:
        raise Refused("range_too_large", f"流水号范围：一次最多{MAX_CARDS:,}张")
    words = f"流水号{serial_from}～{serial_to}"
    qs = PickupCode.objects.filter(serial__gte=serial_from, serial__lte=serial_to)
    if not qs.exists():
        raise Refused("card_not_found", f"{words}：没有提货卡", 404)
    return qs, words


def activate_cards(
    *,
    actor,
    store: Org | None,
    serial_from: int | None = None,
    serial_to: int | None = None,
    codes: Sequence[str] = (),
) -> int:
    """The cards were sold: each not activated one becomes usable. Returns how many."""
    with transaction.atomic():
        cards, words = _chosen(serial_from, serial_to, codes)
        activated = cards.filter(activated=False).update(activated=True)
        if not activated:
            raise Refused("cards_already_activated", f"{words}：都已激活或无需激活", 409)
        record_audit(
            actor=actor,
            action="pickup.cards.activate",
            object_type="pickup.pickupcode",
            object_repr=words,
            org=store,
            after={
                "from": serial_from,
                "to": serial_to,
                "codes": list(codes)[:100],
                "n": activated,
            },
        )
    return activated


def deactivate_cards(
    *,
    actor,
    store: Org | None,
    serial_from: int | None = None,
    serial_to: int | None = None,
    codes: Sequence[str] = (),
    reason: str = "",
) -> int:
    """The sale was reversed: the activated cards of batches sold at the counter stop working.
    Refused as a whole when one of them was used already. Returns how many."""
    with transaction.atomic():
        cards, words = _chosen(serial_from, serial_to, codes)
        cards = cards.filter(batch__needs_activation=True)
        # the conditional UPDATE first: its row locks make a consumer's order of one of these
        # cards wait, and that order then finds the card not activated
        deactivated = cards.filter(activated=True, status=PickupCode.Status.UNUSED).update(
            activated=False
        )
        used = cards.filter(status=PickupCode.Status.USED).values_list("code", flat=True)[:1]
        if used:
            raise Refused("card_used", f"提货卡{used[0]}已提货，不能撤销售出", 409)
        if not deactivated:
            raise Refused("cards_not_activated", f"{words}：没有已激活的售出提货卡", 409)
        record_audit(
            actor=actor,
            action="pickup.cards.deactivate",
            object_type="pickup.pickupcode",
            object_repr=words,
            org=store,
            after={
                "from": serial_from,
                "to": serial_to,
                "codes": list(codes)[:100],
                "n": deactivated,
            },
            note=reason,
        )
    return deactivated
