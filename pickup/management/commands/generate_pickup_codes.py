import time

from django.core.management.base import BaseCommand, CommandError

from couponhub.core.errors import Refused
from pickup.models import CardType, CodeBatch, CodeFormat
from pickup.services import GenerationSpec, create_code_batch, fill_code_batch

FORMATS = [c.value for c in CodeFormat]


class Command(BaseCommand):
    help = "Generate a batch of pickup codes (the same service as the web page's background job)."

    def add_arguments(self, parser):
        parser.add_argument("--card-type", type=int, help="card type id")
        parser.add_argument("--quantity", type=int)
        parser.add_argument("--prefix", default="")
        parser.add_argument("--code-length", type=int, default=12, help="random part")
        parser.add_argument("--code-format", choices=FORMATS, default="mixed")
        parser.add_argument("--password-length", type=int, default=8)
        parser.add_argument("--password-format", choices=FORMATS, default="digits")
        parser.add_argument(
            "--resume", type=int, metavar="BATCH_ID", help="complete an interrupted batch"
        )

    def handle(self, *args, **o):
        started = time.perf_counter()
        if o["resume"]:
            batch = CodeBatch.objects.filter(pk=o["resume"]).first()
            if batch is None:
                raise CommandError(f"批次{o['resume']}不存在")
        else:
            if not o["card_type"] or not o["quantity"]:
                raise CommandError("需要 --card-type 和 --quantity（或 --resume 批次号）")
            card_type = CardType.objects.filter(pk=o["card_type"]).first()
            if card_type is None:
                raise CommandError(f"卡券{o['card_type']}不存在")
            spec = GenerationSpec(
                quantity=o["quantity"],
                prefix=o["prefix"].upper(),
                code_length=o["code_length"],
                code_format=o["code_format"],
                password_length=o["password_length"],
                password_format=o["password_format"],
            )
            try:
                batch = create_code_batch(
                    actor="manage.py generate_pickup_codes",
                    card_type=card_type,
                    spec=spec,
                    background=False,
                )
            except Refused as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"batch {batch.pk}: {batch.quantity} codes")
        last = [0.0]

        def progress(done, total):
            now = time.perf_counter()
            if now - last[0] >= 1 or done == total:
                last[0] = now
                self.stdout.write(f"  {done}/{total} ({done * 100 // total}%)")

        fill_code_batch(batch, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"batch {batch.pk} complete: {batch.quantity} codes "
                f"in {time.perf_counter() - started:.1f} s"
            )
        )
