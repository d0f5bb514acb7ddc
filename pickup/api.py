"""Pickup endpoints of the signed API: a POS activates the pickup cards it sells and
deactivates them when the sale is reversed. Thin: each calls one service."""

from typing import Annotated

from ninja import Field, Router, Schema

from couponhub.core.idempotency import idempotent
from pickup import services

router = Router(tags=["pickup"])
ERRORS = {400: dict, 404: dict, 409: dict}

CardCode = Annotated[str, Field(min_length=1, max_length=40)]


class CardsIn(Schema):
    """Either the cards' codes (as scanned) or a serial range (as printed on the box)."""

    codes: list[CardCode] = Field([], max_length=1000)
    serial_from: int | None = Field(None, ge=0)
    serial_to: int | None = Field(None, ge=0)
    reason: str = Field("", max_length=200, description="deactivation only: why the sale ended")


class CardsOut(Schema):
    changed: int


@router.post(
    "/pickup-cards/activate",
    response={200: CardsOut, **ERRORS},
    summary="Activate pickup cards when they are sold at the till",
)
@idempotent
def activate(request, payload: CardsIn):
    changed = services.activate_cards(
        actor=f"api:{request.auth.name}",
        store=request.auth.store,
        serial_from=payload.serial_from,
        serial_to=payload.serial_to,
        codes=payload.codes,
    )
    return {"changed": changed}


@router.post(
    "/pickup-cards/deactivate",
    response={200: CardsOut, **ERRORS},
    summary="Deactivate sold pickup cards when the sale is reversed",
)
@idempotent
def deactivate(request, payload: CardsIn):
    changed = services.deactivate_cards(
        actor=f"api:{request.auth.name}",
        store=request.auth.store,
        serial_from=payload.serial_from,
        serial_to=payload.serial_to,
        codes=payload.codes,
        reason=payload.reason,
    )
    return {"changed": changed}
