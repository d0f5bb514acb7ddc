"""Writes of the catalogue: settings, pickup stores, couriers, categories, specs, brands,
products and card types.

Each function is one transaction with its audit entry, `pickup.<model>.create`, `.update`,
`.delete` (and `.copy`). A delete that something still needs is refused with a message naming
the users (Refused), never half done."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.errors import Refused
from couponhub.core.models import Org
from pickup.models import (
    Brand,
    CardType,
    CardTypeItem,
    Category,
    Courier,
    PickupSettings,
    PickupStore,
    Product,
    SpecAttribute,
    SpecValue,
)

IN_USE = "该记录正被使用，不能删除：{users}。"


# ---------------------------------------------------------------------------
# Shared steps: save with before/after, delete unless protected, copy's name
# ---------------------------------------------------------------------------


def _stored(instance: models.Model) -> dict | None:
    """The snapshot of the row as stored before this save; None for a new record."""
    if instance.pk is None:
        return None
    row = type(instance).objects.filter(pk=instance.pk).first()
    return None if row is None else snapshot(row)


def _save(*, actor, instance: models.Model, noun: str, org: Org | None = None):
    """Save a record its form validated, audited as pickup.<noun>.create or .update."""
    with transaction.atomic():
        before = _stored(instance)
        instance.save()
        _audit_save(
            actor=actor,
            instance=instance,
            noun=noun,
            before=before,
            after=snapshot(instance),
            org=org,
        )
    return instance


def _audit_save(
    *, actor, instance: models.Model, noun: str, before: dict | None, after: dict, org=None
) -> None:
    """pickup.<noun>.create when there was nothing before, else pickup.<noun>.update."""
    record_audit(
        actor=actor,
        action=f"pickup.{noun}.{'create' if before is None else 'update'}",
        obj=instance,
        before=before,
        after=after,
        org=org,
    )


def _users_of(error: ProtectedError) -> str:
    names = []
    for obj in list(error.protected_objects)[:5]:
        names.append(str(getattr(obj, "card_type", obj)))
    return "、".join(dict.fromkeys(names))


def _delete(*, actor, instance: models.Model, noun: str, in_use: str) -> None:
    """Delete a record, audited as pickup.<noun>.delete; when a protected foreign key still
    points at it, refused with `in_use` ({users}: up to five of them, by card type)."""
    try:
        with transaction.atomic():
            before = snapshot(instance)
            pk, text = instance.pk, str(instance)
            instance.delete()
            record_audit(
                actor=actor,
                action=f"pickup.{noun}.delete",
                object_type=instance._meta.label_lower,
                object_id=str(pk),
                object_repr=text,
                before=before,
            )
    except ProtectedError as exc:
        raise Refused("pickup_refused", in_use.format(users=_users_of(exc))) from exc


def _copy_name(model, name: str, max_length: int) -> str:
    for n in range(1, 100):
        suffix = "（复制）" if n == 1 else f"（复制{n}）"
        candidate = name[: max_length - len(suffix)] + suffix
        if not model.objects.filter(name=candidate).exists():
            return candidate
    raise Refused("pickup_refused", "复制的名称已全部被占用，请先重命名现有的副本")


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


PHONE_SEPARATORS = re.compile(r"[\s,，、;；]+")


def parse_phone_list(text: str) -> list[str]:
    """The administrators' phones as typed (commas, spaces, new lines), each an 11-digit mobile
    number, without repeats; refused naming the first that is not."""
    phones: list[str] = []
    for phone in PHONE_SEPARATORS.split(text or ""):
        if not phone:
            continue
        if not re.fullmatch(r"1\d{10}", phone):
            raise Refused("pickup_refused", f"管理员手机号：“{phone[:20]}”不是11位手机号码")
        if phone not in phones:
            phones.append(phone)
    if len(phones) > 20:
        raise Refused("pickup_refused", "管理员手机号：最多填写20个")
    return phones


def save_settings(*, actor, instance: PickupSettings, logo_bytes: bytes | None = None) -> None:
    instance.admin_phones = ",".join(parse_phone_list(instance.admin_phones))
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


# ---------------------------------------------------------------------------
# Pickup stores and couriers
# ---------------------------------------------------------------------------


def save_pickup_store(*, actor, pickup_store: PickupStore) -> PickupStore:
    return _save(actor=actor, instance=pickup_store, noun="pickupstore", org=pickup_store.store)


def delete_pickup_store(*, actor, pickup_store: PickupStore) -> None:
    """Refused while a card type lists the store (or an order was placed there)."""
    in_use = "该门店正被卡券使用，不能删除：{users}。可以关闭其提货功能。"
    if pickup_store.card_types.exists():
        users = "、".join(str(c) for c in pickup_store.card_types.all()[:5])
        raise Refused("pickup_refused", in_use.format(users=users))
    _delete(actor=actor, instance=pickup_store, noun="pickupstore", in_use=in_use)


def save_courier(*, actor, courier: Courier) -> Courier:
    return _save(actor=actor, instance=courier, noun="courier")


def delete_courier(*, actor, courier: Courier) -> None:
    _delete(actor=actor, instance=courier, noun="courier", in_use=IN_USE)


# ---------------------------------------------------------------------------
# Categories, specs, brands
# ---------------------------------------------------------------------------


def save_category(*, actor, category: Category) -> Category:
    return _save(actor=actor, instance=category, noun="category")


def delete_category(*, actor, category: Category) -> None:
    in_use = "该类别下还有产品，不能删除：{users}。"
    _delete(actor=actor, instance=category, noun="category", in_use=in_use)


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
        _audit_save(
            actor=actor, instance=attribute, noun="specattribute", before=before, after=after
        )
    return attribute


def delete_spec_attribute(*, actor, attribute: SpecAttribute) -> None:
    """Its values go with it, and so do the products' references to them."""
    _delete(actor=actor, instance=attribute, noun="specattribute", in_use=IN_USE)


def save_brand(*, actor, brand: Brand) -> Brand:
    return _save(actor=actor, instance=brand, noun="brand")


def delete_brand(*, actor, brand: Brand) -> None:
    in_use = "该品牌下还有产品，不能删除：{users}。"
    _delete(actor=actor, instance=brand, noun="brand", in_use=in_use)


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------


def save_product(*, actor, product: Product, spec_values: Iterable[SpecValue]) -> Product:
    """Save a product with its spec values (the audit's after lists their ids)."""
    with transaction.atomic():
        before = _stored(product)
        product.save()
        product.spec_values.set(spec_values)
        after = snapshot(product)
        after["spec_values"] = sorted(v.pk for v in product.spec_values.all())
        _audit_save(actor=actor, instance=product, noun="product", before=before, after=after)
    return product


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


def delete_product(*, actor, product: Product) -> None:
    """Refused while a card type lists it (CardTypeItem protects it)."""
    in_use = "该产品正被卡券使用，不能删除：{users}。请先从这些卡券中移除该产品。"
    _delete(actor=actor, instance=product, noun="product", in_use=in_use)


# ---------------------------------------------------------------------------
# Card types
# ---------------------------------------------------------------------------


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
        _audit_save(
            actor=actor,
            instance=card_type,
            noun="cardtype",
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


def delete_card_type(*, actor, card_type: CardType) -> None:
    """Refused once it has code batches: such a card type can be deactivated instead."""
    in_use = "该卡券已有提货码批次，不能删除。可以将其停用。"
    _delete(actor=actor, instance=card_type, noun="cardtype", in_use=in_use)
