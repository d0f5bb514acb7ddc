"""Outside coupons (seed 003, 聚微量票券): bind a shop, activities, product mappings, the coupons a
shop pushes, and their redemption at the till with the three errors of the seed, word for word."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.events import record_event, save_source_subscriber
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Org
from couponhub.core.sms import send_sms
from coupons.models import store_ancestor_ids
from members.models import Member
from redemption.models import OutsideActivity, OutsideCoupon, OutsideProductMapping, OutsideShop
from redemption.services import Item

NOT_FOUND = "票券不存在"
NO_DISH = "订单中没有此券相关菜品,不能使用"


def store_refusal(store: Org, code: str) -> str:
    return f"{store.name}不能使用该票券,票券【消费号{code}】不能使用!"


def bind_shop(
    *, actor, org: Org, name: str, shop_id: str, secret: str, callback_url: str = ""
) -> OutsideShop:
    """聚微量票券关联: bind (or re-bind) an outside shop by its store id + secret. With a
    callback URL the shop is told of each redemption of its coupons (a subscriber of the
    outbound events, signed with the shop's secret)."""
    shop_id = shop_id.strip()
    with transaction.atomic():
        shop = OutsideShop.objects.select_for_update().filter(shop_id=shop_id).first()
        if shop is None:
            shop = OutsideShop(shop_id=shop_id)
        shop.org = org
        shop.name = name
        shop.secret = secret
        shop.is_bound = True
        shop.bound_at = timezone.now()
        shop.callback_url = callback_url
        shop.save()
        _save_shop_subscriber(shop)
        record_audit(
            actor=actor,
            action="redemption.outside_bind",
            obj=shop,
            org=org,
            after={"name": name, "shop_id": shop_id, "callback_url": callback_url},
        )
    return shop


def _save_shop_subscriber(shop: OutsideShop) -> None:
    save_source_subscriber(
        source=f"outside_shop:{shop.pk}",
        name=f"{shop.name}（票券核销通知）",
        url=shop.callback_url,
        secret=shop.secret,
        event_types=["outside_coupon.redeemed"],
        match={"shop_id": shop.shop_id},
        active=shop.is_bound,
    )


def unbind_shop(*, actor, shop: OutsideShop) -> OutsideShop:
    with transaction.atomic():
        OutsideShop.objects.filter(pk=shop.pk).update(is_bound=False)
        shop.is_bound = False
        _save_shop_subscriber(shop)
        record_audit(actor=actor, action="redemption.outside_unbind", obj=shop, org=shop.org)
    shop.refresh_from_db()
    return shop


def save_activity(*, actor, activity: OutsideActivity, stores: Sequence[Org]) -> OutsideActivity:
    if activity.coupon_type == OutsideActivity.Type.ITEM and not activity.product_id:
        raise Refused("sku_required", "菜品/商品：实物券必须选择对应的菜品", status=409)
    with transaction.atomic():
        created = activity.pk is None
        activity.save()
        activity.stores.set(stores)
        record_audit(
            actor=actor,
            action="redemption.outside_activity_create"
            if created
            else "redemption.outside_activity_update",
            obj=activity,
            org=activity.org,
            after=snapshot(
                activity,
                ["name", "coupon_type", "face_value", "product_id", "valid_from", "valid_to"],
            ),
        )
    return activity


def save_mapping(*, actor, mapping: OutsideProductMapping) -> OutsideProductMapping:
    with transaction.atomic():
        mapping.save()
        record_audit(
            actor=actor,
            action="redemption.outside_mapping",
            obj=mapping,
            org=mapping.shop.org,
            after={"product": mapping.product_name, "activity": mapping.activity.name},
        )
    return mapping


def normalise_code(code: str, prefix: str) -> str:
    code = code.strip().upper()
    return code if code.startswith(prefix) else f"{prefix}{code}"


def receive_outside_coupons(
    *, shop: OutsideShop, coupons: Sequence[dict], shop_id: str = ""
) -> tuple[list[str], list[str]]:
    """The signing shop pushes coupons it sold: all or nothing; codes already here are
    duplicates. `shop_id`, when the body names one, must be the shop's own."""
    if shop_id and shop_id != shop.shop_id:
        raise Refused(
            "shop_mismatch", f"店铺编号{shop_id}与签名的外部店铺不一致，只能推送本店铺的票券", 403
        )
    mappings = {
        m.product_id: m
        for m in OutsideProductMapping.objects.filter(shop=shop).select_related("activity")
    }
    created, duplicates = [], []
    now = timezone.now()
    with transaction.atomic():
        for data in coupons:
            mapping = mappings.get(data["product_id"])
            if mapping is None:
                raise Refused(
                    "product_not_mapped", f"外部商品{data['product_id']}未关联本地票券", status=409
                )
            code = normalise_code(data["code"], shop.code_prefix)
            if OutsideCoupon.objects.filter(code=code).exists() or code in created:
                duplicates.append(code)
                continue
            phone = data.get("phone") or ""
            OutsideCoupon.objects.create(
                code=code,
                shop=shop,
                mapping=mapping,
                activity=mapping.activity,
                phone=phone,
                member=Member.objects.filter(phone=phone).first() if phone else None,
                sold_at=data.get("sold_at") or now,
            )
            created.append(code)
        record_audit(
            actor=f"shop:{shop.shop_id}",
            action="redemption.outside_received",
            obj=shop,
            org=shop.org,
            after={"created": created, "duplicates": duplicates},
        )
    return created, duplicates


def outside_refusal(
    coupon: OutsideCoupon | None, store: Org, items: Sequence[Item] | None, code: str, today=None
) -> Refused | None:
    today = today or timezone.localdate()
    if coupon is None or not coupon.shop.is_bound:
        return Refused("outside_coupon_not_found", NOT_FOUND, status=404)
    activity = coupon.activity
    if coupon.status == OutsideCoupon.Status.USED:
        return Refused("outside_coupon_used", f"票券【消费号{coupon.code}】已使用", status=409)
    if coupon.status == OutsideCoupon.Status.VOIDED or not activity.is_active:
        return Refused("outside_coupon_voided", f"票券【消费号{coupon.code}】已作废", status=409)
    if activity.valid_to < today or activity.valid_from > today:
        return Refused(
            "outside_coupon_expired", f"票券【消费号{coupon.code}】不在有效期内", status=409
        )
    allowed = {o.pk for o in activity.stores.all()}
    if not allowed & set(store_ancestor_ids(store)):
        return Refused("store_not_allowed", store_refusal(store, coupon.code), status=409)
    if activity.coupon_type == OutsideActivity.Type.ITEM:
        skus = {i.sku for i in items or ()}
        if activity.sku not in skus:
            return Refused("product_not_in_order", NO_DISH, status=409)
    if activity.min_order_amount and items is not None:
        total = sum((i.amount for i in items), 0)
        if total < activity.min_order_amount:
            return Refused(
                "below_threshold", f"消费金额未满{activity.min_order_amount}元,不能使用", status=409
            )
    return None


def find_outside_coupon(code: str) -> OutsideCoupon | None:
    """The coupon of a consumption number as scanned or typed: J12345 or, its letter prefix
    left off, 12345 (every shop's prefix is tried; the number as typed wins)."""
    code = code.strip().upper()
    if not code:
        return None
    candidates = [code]
    if not code[0].isalpha():
        prefixes = OutsideShop.objects.values_list("code_prefix", flat=True).distinct()
        candidates += [f"{prefix.upper()}{code}" for prefix in prefixes]
    found = {
        c.code: c
        for c in OutsideCoupon.objects.select_related("shop", "activity__product", "member")
        .prefetch_related("activity__stores")
        .filter(code__in=candidates)
    }
    return next((found[c] for c in candidates if c in found), None)


def redeem_outside_coupon(
    *,
    code: str,
    store: Org,
    items: Sequence[Item] | None,
    order_no: str = "",
    operator: str,
    actor=None,
) -> OutsideCoupon:
    """Use an outside coupon at the till; the member gets a notice through the SMS gateway."""
    coupon = find_outside_coupon(code)
    refusal = outside_refusal(coupon, store, items, code)
    if refusal:
        raise refusal
    now = timezone.now()
    with transaction.atomic():
        if order_no:
            # The activity row serialises tills using its coupons, so the per-order limit holds.
            activity = OutsideActivity.objects.select_for_update().get(pk=coupon.activity_id)
            used = OutsideCoupon.objects.filter(
                activity=activity,
                order_no=order_no,
                used_store=store,
                status=OutsideCoupon.Status.USED,
            ).count()
            if used >= activity.per_order_limit:
                raise Refused(
                    "per_order_limit_reached",
                    f"每单限用{activity.per_order_limit}张本活动票券,订单{order_no}已用{used}张",
                    status=409,
                )
        updated = OutsideCoupon.objects.filter(
            pk=coupon.pk, status=OutsideCoupon.Status.UNUSED
        ).update(
            status=OutsideCoupon.Status.USED,
            used_at=now,
            used_store=store,
            order_no=order_no,
            used_by=operator[:150],
        )
        if not updated:
            raise Refused("outside_coupon_used", f"票券【消费号{coupon.code}】已使用", status=409)
        record_audit(
            actor=actor or operator,
            action="redemption.outside_redeem",
            obj=coupon,
            org=store,
            after={"code": coupon.code, "order_no": order_no},
        )
        record_event(
            "outside_coupon.redeemed",
            {
                "shop_id": coupon.shop.shop_id,
                "code": coupon.code,
                "activity": coupon.activity.name,
                "store": store.code,
                "store_name": store.name,
                "order_no": order_no,
                "used_at": now,
            },
            org=store,
        )
        phone = coupon.phone or (coupon.member.phone if coupon.member_id else "")
        if phone:
            text = (
                f"【{store.name}】您的票券【{coupon.activity.name}】(消费号{coupon.code})已于"
                f"{timezone.localtime(now):%Y-%m-%d %H:%M}核销，感谢光临！"
            )
            transaction.on_commit(
                lambda: send_sms(phone=phone, text=text, purpose="outside_redeemed")
            )
    coupon.refresh_from_db()
    return coupon


def return_outside_coupon(*, coupon: OutsideCoupon, store: Org, operator: str, actor=None):
    """退券 of an outside coupon at the till that redeemed it, on the day it was redeemed, once:
    it is unused again (a conditional UPDATE, so two returns at once make one); a new
    redemption overwrites where and when."""
    now = timezone.now()
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    label = f"票券【消费号{coupon.code}】"
    with transaction.atomic():
        updated = OutsideCoupon.objects.filter(
            pk=coupon.pk,
            status=OutsideCoupon.Status.USED,
            used_store=store,
            used_at__gte=start_of_day,
            returned_at__isnull=True,
        ).update(  # where and when it was redeemed stay for the records and the archive
            status=OutsideCoupon.Status.UNUSED, returned_at=now, returned_by=operator[:150]
        )
        if not updated:
            coupon.refresh_from_db()
            if coupon.returned_at is not None:
                why = "已退过一次，不能再退"
            elif coupon.status != OutsideCoupon.Status.USED:
                why = "未核销，不能退券"
            elif coupon.used_store_id != store.pk:
                why = "不是本店核销的，不能在本店退券"
            else:
                why = "只能在核销当天退券"
            raise Refused("outside_return_refused", f"{label}{why}", status=409)
        record_audit(
            actor=actor or operator,
            action="redemption.outside_return",
            obj=coupon,
            org=store,
            before={"status": OutsideCoupon.Status.USED, "order_no": coupon.order_no},
            after={"status": OutsideCoupon.Status.UNUSED},
        )
    coupon.refresh_from_db()
    return coupon


ARCHIVE_EXPORT = "redemption.export_outside_archive"


def start_archive_export(*, actor, query: dict, total: int):
    """导出 of the 票券档案 as the list page filters it (the job re-reads it in the owner's
    scope, redemption/jobs.py)."""
    with transaction.atomic():
        job = enqueue_job(
            kind=ARCHIVE_EXPORT,
            title="票券档案导出",
            owner=actor,
            params={"query": query},
            total=total,
        )
        record_audit(actor=actor, action="redemption.outside_archive_export", obj=job, after=query)
    return job
