"""Partner shops sign their own calls: a shop that sells outside coupons (聚微量微商城) pushes
them signed with its shop id and the secret stored when it was bound (SPEC's signature, with
X-Shop-Id in place of X-Client-Id). A till's API client cannot push; a shop can only push."""

from ninja.security import APIKeyHeader

from couponhub.core.errors import Refused
from couponhub.core.signing import claim_nonce, read_signed_headers, refuse_nul
from redemption.models import OutsideShop, OutsideShopNonce


def verify_shop_request(request) -> OutsideShop:
    signed = read_signed_headers(request, "X-Shop-Id")
    shop = (
        OutsideShop.objects.select_related("org")
        .filter(shop_id=signed.signer, is_bound=True)
        .first()
    )
    if shop is None or not signed.signed_by(shop.secret, request):
        raise Refused("invalid_shop_signature", "外部店铺不存在、未绑定或签名校验失败", 401)
    if not claim_nonce(OutsideShopNonce, shop=shop, nonce=signed.nonce):
        raise Refused("nonce_reused", "X-Nonce 已使用过，请勿重放请求", 401)
    refuse_nul(request)
    return shop


class ShopSignedRequest(APIKeyHeader):
    """django-ninja auth for partner-shop endpoints: request.auth is the OutsideShop."""

    param_name = "X-Shop-Id"

    def authenticate(self, request, key):
        return verify_shop_request(request)
