"""Orders: placing (consumer), shipping, completing, cancelling, verifying, the recycle bin and
the order export."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.jobs import enqueue_job
from couponhub.core.models import Job
from couponhub.core.sms import send_sms
from pickup.models import (
    CardType,
    CardTypeItem,
    Courier,
    PickupCode,
    PickupOrder,
    PickupOrderItem,
    PickupSettings,
    PickupStore,
    RedPacketClaim,
)
from pickup.selectors import filtered_orders
from pickup.services.consumer import code_problem

logger = logging.getLogger(__name__)

PHONE_RE = re.compile(r"^1\d{10}$")
MAX_PICKUP_DAYS_AHEAD = 60


@dataclass(frozen=True)
class Delivery:
    kind: str
    name: str
    phone: str
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    store: PickupStore | None = None
    pickup_date: dt.date | None = None


def allowed_stores(card_type: CardType):
    """Pickup stores open to this card type: its own list, or every enabled one."""
    qs = PickupStore.objects.filter(enabled=True, store__is_active=True).select_related("store")
    if card_type.stores.exists():
        qs = qs.filter(pk__in=card_type.stores.values("pk"))
    return qs


def chosen_products(card_type: CardType, product_ids: Iterable[int]) -> list[CardTypeItem]:
    """The card type's items the consumer receives: all of them for a fixed card, exactly
    choose_count distinct ones of the list for a choice card."""
    items = list(card_type.items.select_related("product"))
    if card_type.selection == CardType.Selection.FIXED:
        return items
    wanted = {int(p) for p in product_ids}
    chosen = [i for i in items if i.product_id in wanted]
    if len(chosen) != len(wanted) or len(chosen) != card_type.choose_count:
        raise Refused("pickup_refused", f"选择商品：请从列表中选择{card_type.choose_count}件商品")
    return chosen


def _check_delivery(card_type: CardType, d: Delivery) -> None:
    if d.kind == PickupOrder.Kind.ONLINE and not card_type.allow_ship:
        raise Refused("pickup_refused", "提货方式：该卡券不支持快递配送")
    if d.kind == PickupOrder.Kind.STORE and not card_type.allow_store_pickup:
        raise Refused("pickup_refused", "提货方式：该卡券不支持门店自提")
    if d.kind not in PickupOrder.Kind.values:
        raise Refused("pickup_refused", "提货方式：请选择快递配送或门店自提")
    if not d.name.strip() or len(d.name) > 30:
        raise Refused("pickup_refused", "姓名：请填写收货人/提货人姓名（30字以内）")
    if not PHONE_RE.match(d.phone):
        raise Refused("pickup_refused", "手机号：请填写11位手机号码")
    if d.kind == PickupOrder.Kind.ONLINE:
        for label, value, size in [
            ("省份", d.province, 20),
            ("城市", d.city, 20),
            ("区县", d.district, 20),
            ("详细地址", d.address, 200),
        ]:
            if not value.strip() or len(value) > size:
                raise Refused("pickup_refused", f"{label}：请填写（{size}字以内）")
    else:
        if d.store is None or not allowed_stores(card_type).filter(pk=d.store.pk).exists():
            raise Refused("pickup_refused", "提货门店：请选择该卡券可提货的门店")
        today = timezone.localdate()
        if d.pickup_date is None or not (
            today <= d.pickup_date <= today + dt.timedelta(days=MAX_PICKUP_DAYS_AHEAD)
        ):
            raise Refused(
                "pickup_refused", f"提货日期：请选择今天起{MAX_PICKUP_DAYS_AHEAD}天内的日期"
            )


def new_order_no() -> str:
    return f"P{timezone.localtime():%y%m%d}{secrets.randbelow(10**9):09d}"


def place_order(
    *, serial: int, product_ids: Iterable[int], delivery: Delivery, client_ip: str | None
) -> PickupOrder:
    """Use the code and create its order, in one transaction. The code's status changes from
    unused to used by a conditional UPDATE: of concurrent submits of one code exactly one wins."""
    code = PickupCode.objects.select_related("card_type").get(serial=serial)
    if problem := code_problem(code):
        raise Refused("pickup_refused", problem[1])
    card_type = code.card_type
    items = chosen_products(card_type, product_ids)
    _check_delivery(card_type, delivery)
    online = delivery.kind == PickupOrder.Kind.ONLINE
    with transaction.atomic():
        now = timezone.now()
        won = PickupCode.objects.filter(
            serial=serial, status=PickupCode.Status.UNUSED, enabled=True
        ).update(status=PickupCode.Status.USED, used_at=now)
        if not won:
            code.refresh_from_db()
            raise Refused("pickup_refused", (code_problem(code) or ("used", "该提货码已使用"))[1])
        for _attempt in range(5):
            order_no = new_order_no()
            if not PickupOrder.objects.filter(order_no=order_no).exists():
                break
        order = PickupOrder.objects.create(
            order_no=order_no,
            code=code,
            card_type=card_type,
            kind=delivery.kind,
            consumer_name=delivery.name.strip(),
            consumer_phone=delivery.phone,
            province=delivery.province.strip() if online else "",
            city=delivery.city.strip() if online else "",
            district=delivery.district.strip() if online else "",
            address=delivery.address.strip() if online else "",
            store=None if online else delivery.store,
            pickup_date=None if online else delivery.pickup_date,
            client_ip=client_ip,
            created_at=now,
        )
        PickupOrderItem.objects.bulk_create(
            PickupOrderItem(
                order=order,
                product_id=i.product_id,
                product_name=i.product.name[:100],
                quantity=i.quantity,
            )
            for i in items
        )
        record_audit(
            actor=None,
            action="pickup.order.create",
            obj=order,
            org=order.store.store if order.store else None,
            after={**snapshot(order), "products": [i.product_id for i in items]},
            note=f"消费者提货：提货码{code.code}",
        )
        transaction.on_commit(lambda: notify_new_order(order.pk))
    return order


def _admin_phones() -> list[str]:
    """The administrators' phones kept in the pickup settings (系统设置)."""
    return PickupSettings.load().admin_phone_list


def _send(phone: str, text: str, purpose: str) -> None:
    """Send one notice; a refused or failed send is logged by core and never raises here."""
    try:
        message = send_sms(phone=phone, text=text, purpose=purpose)
    except Exception:  # the gateway must never break the order flow
        logger.exception("pickup SMS %s failed", purpose)
        return
    if message.status not in ("sent", "pending"):
        # the message's id, not the phone: logs never carry a full phone number
        logger.warning(
            "pickup SMS %s (message %s) not sent: %s", purpose, message.pk, message.error
        )


def notify_new_order(order_id: int) -> None:
    """New online order → admins; new store order → admins and the store's manager."""
    order = PickupOrder.objects.select_related("card_type", "store__store").get(pk=order_id)
    name = PickupSettings.load().name
    if order.kind == PickupOrder.Kind.ONLINE:
        text = (
            f"【{name}】新线上订单{order.order_no}：{order.card_type.name}，"
            f"收货人{order.consumer_name}，{order.province}{order.city}，请及时发货。"
        )
        for phone in _admin_phones():
            _send(phone, text, "pickup_new_online_order")
        return
    text = (
        f"【{name}】新门店自提订单{order.order_no}：{order.card_type.name}，"
        f"{order.store.store.name}，提货日期{order.pickup_date:%Y-%m-%d}。"
    )
    phones = _admin_phones()
    for phone in phones:
        _send(phone, text, "pickup_new_store_order")
    manager = order.store.manager_phone
    if manager and manager not in phones:
        _send(manager, text, "pickup_store_order_manager")


def _change_order(
    order: PickupOrder,
    *,
    actor,
    verb: str,
    allowed_from: Iterable[str],
    kind: str | None = None,
    note: str = "",
    **changes,
) -> PickupOrder:
    """A conditional UPDATE from one of `allowed_from`; refused when the order moved meanwhile."""
    before = snapshot(order)
    qs = PickupOrder.objects.filter(pk=order.pk, status__in=list(allowed_from), deleted_at=None)
    if kind:
        qs = qs.filter(kind=kind)
    if not qs.update(**changes):
        order.refresh_from_db()
        raise Refused(
            "pickup_refused",
            f"订单{order.order_no}当前状态为「{order.status_label}」，不能{_VERBS[verb]}",
        )
    order.refresh_from_db()
    record_audit(
        actor=actor,
        action=f"pickup.order.{verb}",
        obj=order,
        org=order.store.store if order.store_id else None,
        before=before,
        after=snapshot(order),
        note=note,
    )
    return order


_VERBS = {"ship": "发货", "complete": "完成", "cancel": "取消", "verify": "核销"}
S = PickupOrder.Status


def ship_order(*, actor, order: PickupOrder, courier: Courier, tracking_no: str) -> PickupOrder:
    tracking_no = (tracking_no or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{6,40}", tracking_no):
        raise Refused("pickup_refused", "快递单号：请填写6～40位字母或数字")
    if not courier.enabled:
        raise Refused("pickup_refused", "快递公司：该快递公司已停用")
    with transaction.atomic():
        now = timezone.now()
        order = _change_order(
            order,
            actor=actor,
            verb="ship",
            allowed_from=[S.PENDING],
            kind=PickupOrder.Kind.ONLINE,
            status=S.SHIPPED,
            courier=courier,
            tracking_no=tracking_no,
            shipped_at=now,
            handled_by=actor,
        )
        PickupCode.objects.filter(pk=order.code_id).update(shipped=True, shipped_at=now)
        text = (
            f"【{PickupSettings.load().name}】您的提货订单{order.order_no}已发货，"
            f"{courier.name}，快递单号{tracking_no}，请注意查收。"
        )
        phone = order.consumer_phone
        transaction.on_commit(lambda: _send(phone, text, "pickup_order_shipped"))
    return order


def complete_order(
    *, actor, order: PickupOrder, note: str = "", completed_at: dt.datetime | None = None
) -> PickupOrder:
    """A shipped online order is completed: by hand, when its parcel is signed for
    (`completed_at` = the signing time), or N days after shipping."""
    with transaction.atomic():
        return _change_order(
            order,
            actor=actor,
            verb="complete",
            allowed_from=[S.SHIPPED],
            kind=PickupOrder.Kind.ONLINE,
            note=note,
            status=S.COMPLETED,
            completed_at=completed_at or timezone.now(),
        )


def complete_shipped_orders(*, now=None) -> int:
    """Complete the online orders shipped at least `auto_complete_days` ago (the nightly task)."""
    now = now or timezone.now()
    days = PickupSettings.load().auto_complete_days
    due = PickupOrder.objects.filter(
        kind=PickupOrder.Kind.ONLINE,
        status=S.SHIPPED,
        deleted_at=None,
        shipped_at__lte=now - dt.timedelta(days=days),
    ).order_by("pk")
    done = 0
    for order in due.iterator():
        try:
            complete_order(actor=None, order=order, note=f"发货{days}天后自动完成")
        except Refused:
            continue  # changed meanwhile
        done += 1
    return done


def cancel_order(*, actor, order: PickupOrder, reason: str = "") -> PickupOrder:
    """Cancel an order that is not shipped or picked up yet; its code can be used again."""
    with transaction.atomic():
        order = _change_order(
            order,
            actor=actor,
            verb="cancel",
            allowed_from=[S.PENDING],
            note=reason,
            status=S.CANCELLED,
            cancelled_at=timezone.now(),
            handled_by=actor,
        )
        PickupCode.objects.filter(pk=order.code_id, status=PickupCode.Status.USED).update(
            status=PickupCode.Status.UNUSED, used_at=None, shipped=False, shipped_at=None
        )
    return order


def verify_store_order(*, actor, order: PickupOrder, phone: str) -> PickupOrder:
    """核销: the consumer shows order number + phone at the store; the order is completed."""
    if order.kind != PickupOrder.Kind.STORE:
        raise Refused("pickup_refused", "订单号：这不是门店自提订单")
    if (phone or "").strip() != order.consumer_phone:
        raise Refused("pickup_refused", "手机号：与订单的手机号不一致")
    with transaction.atomic():
        now = timezone.now()
        order = _change_order(
            order,
            actor=actor,
            verb="verify",
            allowed_from=[S.PENDING],
            kind=PickupOrder.Kind.STORE,
            status=S.COMPLETED,
            completed_at=now,
            handled_by=actor,
        )
        PickupCode.objects.filter(pk=order.code_id).update(picked_up=True, picked_up_at=now)
    return order


def delete_orders(*, actor, orders) -> int:
    """Move orders to the recycle bin."""
    with transaction.atomic():
        ids = list(orders.filter(deleted_at=None).values_list("pk", flat=True))
        count = PickupOrder.objects.filter(pk__in=ids, deleted_at=None).update(
            deleted_at=timezone.now()
        )
        if count:
            record_audit(
                actor=actor,
                action="pickup.order.delete",
                object_type="pickup.pickuporder",
                object_repr=f"{count}个订单",
                after={"ids": ids},
                note="移入回收站",
            )
    return count


def restore_orders(*, actor, orders) -> int:
    with transaction.atomic():
        ids = list(orders.exclude(deleted_at=None).values_list("pk", flat=True))
        count = PickupOrder.objects.filter(pk__in=ids).update(deleted_at=None)
        if count:
            record_audit(
                actor=actor,
                action="pickup.order.restore",
                object_type="pickup.pickuporder",
                object_repr=f"{count}个订单",
                after={"ids": ids},
                note="从回收站恢复",
            )
    return count


def purge_orders(*, actor, orders) -> int:
    """Delete orders for good (only from the recycle bin). The codes stay used; an order whose
    red packet was claimed stays, since the claim's money went out through it."""
    with transaction.atomic():
        qs = orders.exclude(deleted_at=None).exclude(
            pk__in=RedPacketClaim.objects.values("order_id")
        )
        rows = list(qs.values("pk", "order_no", "code_id", "status", "consumer_phone"))
        ids = [r["pk"] for r in rows]
        PickupOrderItem.objects.filter(order_id__in=ids).delete()
        count = PickupOrder.objects.filter(pk__in=ids).delete()[0]
        if count:
            record_audit(
                actor=actor,
                action="pickup.order.purge",
                object_type="pickup.pickuporder",
                object_repr=f"{count}个订单",
                before={"orders": rows},
                note="从回收站彻底删除",
            )
    return count


def start_order_export(*, actor, kind: str, query: dict) -> Job:
    total = filtered_orders(kind, query).count()
    if total == 0:
        raise Refused("pickup_refused", "筛选条件：没有符合条件的订单")
    with transaction.atomic():
        job = enqueue_job(
            kind="pickup.export_orders",
            title=f"导出{'线上' if kind == 'online' else '门店'}订单（{total}条）",
            owner=actor if getattr(actor, "is_authenticated", False) else None,
            params={"kind": kind, "query": query},
            total=total,
        )
        record_audit(
            actor=actor,
            action="pickup.order.export",
            obj=job,
            after={"kind": kind, "query": query, "rows": total},
        )
    return job
