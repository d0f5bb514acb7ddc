"""Printing pickup cards (step ⑤ 印刷提货卡 of the manual): a card-sheet job for the codes the
four selectors choose."""

from __future__ import annotations

from django.db import transaction

from couponhub.core.audit import record_audit
from couponhub.core.cardsheets import Layout
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job
from pickup.selectors import describe_selection, select_codes


def start_card_print(
    *,
    actor,
    selection: dict,
    layout: dict,
    notes: str = "",
    package: bool = False,
    base_url: str = "",
) -> Job:
    """Queue the card sheets of the selected codes; the PDF (or package) lands in the download
    centre."""
    if not selection:
        raise Refused("pickup_refused", "筛选条件：至少填写一项（流水号、批次、卡券或生成日期）")
    Layout.from_params(layout).grid()  # refuse a size that does not fit before queuing
    total = select_codes(selection).count()
    if total == 0:
        raise Refused("pickup_refused", "筛选条件：没有符合条件的提货码")
    with transaction.atomic():
        job = enqueue_job(
            kind="pickup.print_cards",
            title=f"印刷提货卡：{describe_selection(selection)}"[:200],
            owner=actor if getattr(actor, "is_authenticated", False) else None,
            params={
                "selection": selection,
                "layout": layout,
                "notes": notes,
                "package": package,
                "base_url": base_url,
            },
            total=total,
        )
        record_audit(
            actor=actor,
            action="pickup.print_cards",
            obj=job,
            after={"selection": selection, "layout": layout, "package": package, "cards": total},
        )
    return job
