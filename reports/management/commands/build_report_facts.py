"""Run the nightly fact build now, or back-fill a date range.

manage.py build_report_facts                          # incremental, up to end of yesterday
manage.py build_report_facts --from 2024-09-01 --to 2024-09-30   # re-read that range
manage.py build_report_facts --full                   # rebuild everything from scratch
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from reports import facts
from reports.models import FactRun, RedemptionDailyFact, UValueCouponFact


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = "Build the report facts (incrementally, or back-fill --from/--to, or --full)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=_date)
        parser.add_argument("--to", dest="date_to", type=_date)
        parser.add_argument("--full", action="store_true", help="drop the run log and rebuild")

    def handle(self, *args, date_from=None, date_to=None, full=False, **options):
        if full:
            UValueCouponFact.objects.all().delete()
            RedemptionDailyFact.objects.all().delete()
            FactRun.objects.all().delete()
            run = facts.build_facts()
        elif date_from or date_to:
            if date_from and date_to and date_from > date_to:
                raise CommandError("--from 不能晚于 --to")
            since = facts.start_of_day(date_from) if date_from else None
            until = facts.start_of_day(date_to + datetime.timedelta(days=1)) if date_to else None
            run = facts.build_facts(since=since, until=until, backfill=True)
        else:
            run = facts.build_facts()
        self.stdout.write(
            f"facts {run.since or '-'} → {run.until} (as of {run.as_of}): "
            f"{run.candidates} changed, {run.inserted} inserted, {run.updated} updated, "
            f"{run.deleted} deleted, {run.days_rebuilt} redemption days"
        )
