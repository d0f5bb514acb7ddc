from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "couponhub.core"
    label = "core"
    verbose_name = "CouponHub core"

    def ready(self):
        # Job runners register themselves from each app's jobs.py; the worker needs them all.
        from couponhub.core import (
            exports,  # noqa: F401  (registers the core's own runners)
            health,  # noqa: F401  (a worker's heartbeat starts when ready)
        )

        autodiscover_modules("jobs")
