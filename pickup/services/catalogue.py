"""Writes of the catalogue: settings, pickup stores, couriers, categories, specs, brands,
products and card types. One transaction and one audit entry each."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from pickup.models import (
    CardType,
    CardTypeItem,
    PickupSettings,
    Product,
    SpecAttribute,
    SpecValue,
)


def _action(obj: models.Model, verb: str) -> str:
    return f"pickup.{obj._meta.model_name}.{verb}"


def save_record(
    *, actor, instance: models.Model, m2m: dict[str, Iterable] | None = None
) -> models.Model:
    """Create or update one record (already validated by its form), with before/after audit."""
    with transaction.atomic():
        creating = instance.pk is None or not type(instance).objects.filter(pk=instance.pk).exists()
        before = None
        if not creating:
            before = snapshot(type(instance).objects.get(pk=instance.pk))
        instance.save()
        after = snapshot(instance)
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
            after[name] = sorted(v.pk for v in getattr(instance, name).all())
        record_audit(
            actor=actor,
            action=_action(instance, "create" if creating else "update"),
            obj=instance,
            before=before,
            after=after,
            org=getattr(instance, "store", None),
        )
    return instance


_IN_USE = {
    "product": "该产品正被卡券使用，不能删除：{users}。请先从这些卡券中移除该产品。",
    "category": "该类别下还有产品，不能删除：{users}。",
    "brand": "该品牌下还有产品，不能删除：{users}。",
    "cardtype": "该卡券已有提货码批次，不能删除。可以将其停用。",
    "pickupstore": "该门店正被卡券使用，不能删除：{users}。可以关闭其提货功能。",
}


def _users_of(error: ProtectedError) -> str:
    names = []
    for obj in list(error.protected_objects)[:5]:
        names.append(str(getattr(obj, "card_type", obj)))
    return "、".join(dict.fromkeys(names))


def delete_record(*, actor, instance: models.Model) -> None:
    """Delete one record; refused with a clear message when something still uses it."""
    name = instance._meta.model_name
    if name == "pickupstore" and instance.card_types.exists():
        users = "、".join(str(c) for c in instance.card_types.all()[:5])
        raise Refused("pickup_refused", _IN_USE[name].format(users=users))
    try:
        with transaction.atomic():
            before = snapshot(instance)
            pk, text = instance.pk, str(instance)
            instance.delete()
            record_audit(
                actor=actor,
                action=_action(instance, "delete"),
                object_type=instance._meta.label_lower,
                object_id=str(pk),
                object_repr=text,
                before=before,
            )
    except ProtectedError as exc:
        message = _IN_USE.get(name, "该记录正被使用，不能删除：{users}。")
        raise Refused("pickup_refused", message.format(users=_users_of(exc))) from exc


def _copy_name(model, name: str, max_length: int) -> str:
    for n in range(1, 100):
        suffix = "（复制）" if n == 1 else f"（复制{n}）"
        candidate = name[: max_length - len(suffix)] + suffix
        if not model.objects.filter(name=candidate).exists():
            return candidate
    raise Refused("pickup_refused", "复制的名称已全部被占用，请先重命名现有的副本")


def copy_product(*, actor, product: Product) -> Product:
    with transaction.atomic():
        specs = list(product.spec_values.all())
        source_pk = product.pk
        copy = Product.objects.get(pk=source_pk)
        copy.pk = None
        copy.name = _copy_name(Product, product.name, 100)
        copy.created_at = timezone.now()
        copy.save()
        copy.spec_values.set(specs)
        record_audit(
            actor=actor,
            action="pickup.product.copy",
            obj=copy,
            after=snapshot(copy),
            note=f"复制自产品 {source_pk}",
        )
    return copy


def save_card_type(
    *, actor, card_type: CardType, items: list[tuple[Product, int]], stores
) -> CardType:
    """Save a card type with its products (product, quantity) and allowed stores."""
    if not items:
        raise Refused("pickup_refused", "卡券至少需要一个产品")
    if card_type.selection == CardType.Selection.CHOOSE and card_type.choose_count > len(items):
        raise Refused(
            "pickup_refused",
            f"可选产品数量：需选{card_type.choose_count}件，但列表中只有{len(items)}件产品",
        )
    with transaction.atomic():
        creating = card_type.pk is None
        before = None if creating else _card_type_snapshot(CardType.objects.get(pk=card_type.pk))
        card_type.save()
        card_type.stores.set(stores)
        card_type.items.exclude(product__in=[p for p, _q in items]).delete()
        for order, (product, quantity) in enumerate(items):
            CardTypeItem.objects.update_or_create(
                card_type=card_type,
                product=product,
                defaults={"quantity": quantity, "sort_order": order},
            )
        record_audit(
            actor=actor,
            action=_action(card_type, "create" if creating else "update"),
            obj=card_type,
            before=before,
            after=_card_type_snapshot(card_type),
        )
    return card_type


def _card_type_snapshot(card_type: CardType) -> dict:
    data = snapshot(card_type)
    data["items"] = [[i.product_id, i.quantity] for i in card_type.items.all()]
    data["stores"] = sorted(card_type.stores.values_list("pk", flat=True))
    return data


def copy_card_type(*, actor, card_type: CardType) -> CardType:
    with transaction.atomic():
        items = list(card_type.items.all())
        stores = list(card_type.stores.all())
        source_pk = card_type.pk
        copy = CardType.objects.get(pk=source_pk)
        copy.pk = None
        copy.name = _copy_name(CardType, card_type.name, 60)
        copy.created_at = timezone.now()
        copy.save()
        copy.stores.set(stores)
        CardTypeItem.objects.bulk_create(
            CardTypeItem(
                card_type=copy,
                product_id=i.product_id,
                quantity=i.quantity,
                sort_order=i.sort_order,
            )
            for i in items
        )
        record_audit(
            actor=actor,
            action="pickup.cardtype.copy",
            obj=copy,
            after=_card_type_snapshot(copy),
            note=f"复制自卡券 {source_pk}",
        )
    return copy


def save_spec_attribute(*, actor, attribute: SpecAttribute, values: list[str]) -> SpecAttribute:
    """Save an attribute and its list of values: new ones added, missing ones removed."""
    with transaction.atomic():
        creating = attribute.pk is None
        before = None
        if not creating:
            before = snapshot(SpecAttribute.objects.get(pk=attribute.pk))
            before["values"] = list(attribute.values.values_list("value", flat=True))
        attribute.save()
        attribute.values.exclude(value__in=values).delete()
        for order, value in enumerate(values):
            SpecValue.objects.update_or_create(
                attribute=attribute, value=value, defaults={"sort_order": order}
            )
        after = snapshot(attribute)
        after["values"] = values
        record_audit(
            actor=actor,
            action=_action(attribute, "create" if creating else "update"),
            obj=attribute,
            before=before,
            after=after,
        )
    return attribute


def save_settings(*, actor, instance: PickupSettings, logo_bytes: bytes | None = None) -> None:
    with transaction.atomic():
        before = snapshot(PickupSettings.load())
        if logo_bytes is not None:
            instance.logo.save(
                f"logo-{timezone.now():%Y%m%d%H%M%S}.png", ContentFile(logo_bytes), save=False
            )
        instance.save()
        record_audit(
            actor=actor,
            action="pickup.settings.update",
            obj=instance,
            before=before,
            after=snapshot(instance),
        )
