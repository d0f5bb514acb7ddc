import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from couponhub import local_postgres


class Command(BaseCommand):
    help = (
        "Run the web server, a Celery worker per queue (interactive, bulk) and beat together; "
        "Ctrl-C stops them all, and the checkout's own PostgreSQL server when no DATABASE_URL "
        "is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        var = settings.VAR_DIR
        for folder in ("celery/queue", "celery/processed", "media"):
            (var / folder).mkdir(parents=True, exist_ok=True)
        python = sys.executable
        env = os.environ.copy()

        def celery(*args):
            return subprocess.Popen([python, "-m", "celery", "-A", "couponhub", *args], env=env)

        procs = [
            # SMS, small jobs and events: never behind a batch
            celery("worker", "-Q", "interactive", "-n", "interactive@%h", "--concurrency=2"),
            # generation, imports, exports, report builds: one at a time
            celery("worker", "-Q", "bulk", "-n", "bulk@%h", "--concurrency=1"),
            celery("beat", "--schedule", str(var / "celerybeat-schedule")),
            subprocess.Popen(
                [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"], env=env
            ),
        ]
        self.stdout.write(
            f"CouponHub on http://{host}:{port}/  (Ctrl-C stops web, workers and beat)"
        )
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
            if not os.environ.get("DATABASE_URL"):
                local_postgres.stop(var)
                self.stdout.write("Stopped the checkout's PostgreSQL server.")
