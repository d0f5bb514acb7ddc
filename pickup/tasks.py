from celery import shared_task

from pickup import services


@shared_task(name="pickup.tasks.complete_shipped_orders_task")
def complete_shipped_orders_task() -> int:
    """Nightly: complete the online orders shipped N days ago; forget old password attempts."""
    services.purge_password_attempts()
    return services.complete_shipped_orders()
