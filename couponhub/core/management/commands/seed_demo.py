from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from couponhub.core.discovery import app_modules


class Command(BaseCommand):
    help = "Fill the database with a believable demo chain. Safe to run again."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with DJANGO_ENV=production")
        # Each app seeds its own part in demo.py, in INSTALLED_APPS (dependency) order.
        for module in app_modules("demo"):
            with transaction.atomic():
                module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
