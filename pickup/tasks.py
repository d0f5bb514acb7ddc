from celery import shared_task

from pickup import services


@shared_task(name="pickup.tasks.complete_shipped_orders_task")
def complete_shipped_orders_task() -> int:
    """Nightly: complete the online orders shipped N days ago; forget old password attempts."""
    services.purge_password_attempts()
    return services.complete_shipped_orders()


@shared_task(name="pickup.tasks.track_shipped_orders_task")
def track_shipped_orders_task() -> dict:
    """Every half hour: ask the courier-tracking backend about shipped orders; a parcel signed
    for completes its order."""
    return services.track_shipped_orders()
