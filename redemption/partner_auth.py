"""Partner shops sign their own calls: a shop that sells outside coupons (聚微量微商城) pushes
them signed with its shop id and the secret stored when it was bound (SPEC's signature, with
X-Shop-Id in place of X-Client-Id). A till's API client cannot push; a shop can only push."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from ninja.security import APIKeyHeader

from couponhub.core.errors import Refused
from couponhub.core.signing import read_signed_headers, refuse_nul
from redemption.models import OutsideShop, OutsideShopNonce

NONCE_TTL = timedelta(minutes=10)


def verify_shop_request(request) -> OutsideShop:
    signed = read_signed_headers(request, "X-Shop-Id")
    shop = (
        OutsideShop.objects.select_related("org")
        .filter(shop_id=signed.signer, is_bound=True)
        .first()
    )
    if shop is None or not signed.signed_by(shop.secret, request):
        raise Refused("invalid_shop_signature", "外部店铺不存在、未绑定或签名校验失败", 401)
    try:
        with transaction.atomic():
            OutsideShopNonce.objects.create(shop=shop, nonce=signed.nonce)
    except IntegrityError:
        raise Refused("nonce_reused", "X-Nonce 已使用过，请勿重放请求", 401) from None
    refuse_nul(request)
    return shop


def purge_old_shop_nonces(now=None) -> int:
    now = now or timezone.now()
    deleted, _ = OutsideShopNonce.objects.filter(created_at__lt=now - NONCE_TTL).delete()
    return deleted


class ShopSignedRequest(APIKeyHeader):
    """django-ninja auth for partner-shop endpoints: request.auth is the OutsideShop."""

    param_name = "X-Shop-Id"

    def authenticate(self, request, key):
        return verify_shop_request(request)
