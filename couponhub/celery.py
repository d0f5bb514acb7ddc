import os

from celery import Celery

# request ids in task headers, and workers logging through settings.LOGGING
from couponhub.core import logs  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "couponhub.settings")

app = Celery("couponhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
