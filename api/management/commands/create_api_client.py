from django.core.management.base import BaseCommand, CommandError

from api.services import create_api_client
from couponhub.core.models import Org


class Command(BaseCommand):
    help = "Create a signed-API client for a store; prints the client id and secret once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--store", required=True, help="store code, e.g. 380")
        parser.add_argument(
            "--auto-return",
            action="store_true",
            help="return an order's coupons automatically when the order is refunded",
        )

    def handle(self, *args, name, store, auto_return, **options):
        org = Org.objects.filter(code=store, kind=Org.Kind.STORE).first()
        if org is None:
            raise CommandError(f"no store with code {store!r}")
        client, secret = create_api_client(
            actor="create_api_client", name=name, store=org, auto_return=auto_return
        )
        self.stdout.write(f"client_id: {client.client_id}")
        self.stdout.write(f"secret:    {secret}")
        self.stdout.write("Keep the secret now: it is stored encrypted and never shown again.")
