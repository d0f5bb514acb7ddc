from celery import shared_task

from api.models import ApiNonce
from couponhub.core.signing import purge_old_nonces
from redemption.models import OutsideShopNonce


@shared_task(name="api.tasks.purge_old_nonces_task")
def purge_old_nonces_task() -> int:
    return purge_old_nonces(ApiNonce) + purge_old_nonces(OutsideShopNonce)
