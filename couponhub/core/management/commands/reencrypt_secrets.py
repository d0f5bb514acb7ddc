from django.core.management.base import BaseCommand

from couponhub.core.reencryption import reencrypt_secrets


class Command(BaseCommand):
    help = (
        "Rewrite every encrypted value (API client secrets, outside-shop secrets, pickup "
        "passwords) under the newest FIELD_ENCRYPTION_KEY. Run it after putting a new key first; "
        "when it reports nothing left, the old key can be removed. Safe to stop and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args, dry_run=False, **options):
        def progress(label, seen, changed):
            self.stdout.write(f"  {label}: {changed:,} of {seen:,} rows to rewrite", ending="\r")

        counts = reencrypt_secrets(dry_run=dry_run, progress=progress)
        self.stdout.write("")
        for label, count in counts.items():
            verb = "to rewrite" if dry_run else "rewritten"
            self.stdout.write(f"{label}: {count['rewritten']:,} {verb}")
            if count["unreadable"]:
                self.stderr.write(
                    f"{label}: {count['unreadable']:,} no configured key opens (left as they are)"
                )
        self.stdout.write(self.style.SUCCESS("dry run: nothing changed" if dry_run else "done"))
