"""The codes of an application: one manual code, or up to MAX_AUTO_CODES random ones."""

from __future__ import annotations

import re
import string

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from couponhub.core.codes import random_string
from promocodes.models import Generation, PromoCode, PromoCodeApplication

AUTO_ALPHABET = string.ascii_uppercase + string.digits
AUTO_LENGTH = 6
MAX_AUTO_CODES = 10_000
MANUAL_CODE_RE = re.compile(r"^[A-Z0-9]{4,32}$")


def _new_auto_codes(prefix: str, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        wanted = count - len(codes)
        fresh = {prefix + random_string(AUTO_LENGTH, AUTO_ALPHABET) for _ in range(wanted)}
        taken = set(PromoCode.objects.filter(code__in=fresh).values_list("code", flat=True))
        codes |= fresh - taken
    return sorted(codes)


def create_codes(application: PromoCodeApplication) -> None:
    if application.generation == Generation.MANUAL:
        PromoCode.objects.create(
            code=application.manual_code, application=application, max_uses=application.max_uses
        )
        return
    for _attempt in range(5):
        codes = _new_auto_codes(application.channel.prefix, application.quantity)
        try:
            with transaction.atomic():
                PromoCode.objects.bulk_create(
                    PromoCode(code=c, application=application, max_uses=application.max_uses)
                    for c in codes
                )
            return
        except IntegrityError:  # another application took one of them meanwhile
            continue
    raise ValidationError({"quantity": "生成优惠码时发生冲突，请重试"})
