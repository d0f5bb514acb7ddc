from celery import shared_task

from api.security import purge_old_nonces
from redemption.partner_auth import purge_old_shop_nonces


@shared_task(name="api.tasks.purge_old_nonces_task")
def purge_old_nonces_task() -> int:
    return purge_old_nonces() + purge_old_shop_nonces()
