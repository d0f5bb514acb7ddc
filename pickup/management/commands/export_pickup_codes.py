import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pickup.models import CodeBatch
from pickup.selectors import DEFAULT_EXPORT_COLUMNS, EXPORT_COLUMNS, write_code_export


class Command(BaseCommand):
    help = "Export the pickup codes of a batch to .xlsx or .csv."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, required=True)
        parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        parser.add_argument("--out", required=True)
        parser.add_argument(
            "--columns",
            default=",".join(DEFAULT_EXPORT_COLUMNS),
            help=f"comma separated, of: {', '.join(EXPORT_COLUMNS)}",
        )
        parser.add_argument("--base-url", default="", help="e.g. https://shop.example.com")

    def handle(self, *args, **o):
        if not CodeBatch.objects.filter(pk=o["batch"]).exists():
            raise CommandError(f"批次{o['batch']}不存在")
        columns = [c.strip() for c in o["columns"].split(",") if c.strip()]
        unknown = [c for c in columns if c not in EXPORT_COLUMNS]
        if unknown:
            raise CommandError(f"未知的列：{', '.join(unknown)}")
        started = time.perf_counter()
        rows = write_code_export(
            Path(o["out"]),
            selection={"batch": str(o["batch"])},
            columns=columns,
            file_format=o["format"],
            base_url=o["base_url"],
        )
        self.stdout.write(
            self.style.SUCCESS(f"{rows} rows → {o['out']} in {time.perf_counter() - started:.1f} s")
        )
