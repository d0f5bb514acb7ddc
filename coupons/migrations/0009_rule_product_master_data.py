"""抵换食品 and 不适用食品类别 were free text; they become references to the product master. A SKU
or a category the master does not know yet is added to it (named as the rule had it), never
dropped."""

import re

from django.db import migrations

CODE = re.compile(r"^[A-Za-z0-9_\-.]{1,30}$")


def to_master(apps, schema_editor):
    CouponRule = apps.get_model("coupons", "CouponRule")
    Product = apps.get_model("products", "Product")
    Category = apps.get_model("products", "Category")
    rules = CouponRule.objects.exclude(exchange_product_sku="", exchange_product_name="")
    for rule in rules.only("pk", "exchange_product_sku", "exchange_product_name"):
        sku = rule.exchange_product_sku.strip()
        name = rule.exchange_product_name.strip()
        product = None
        if sku:
            product, _ = Product.objects.get_or_create(sku=sku, defaults={"name": name or sku})
        else:  # a name without a code: the food of that name, or a new one coded after the rule
            product = Product.objects.filter(name=name).order_by("pk").first()
            if product is None:
                product = Product.objects.create(sku=f"MIG{rule.pk:06d}", name=name)
        CouponRule.objects.filter(pk=rule.pk).update(exchange_product=product)
    for rule in CouponRule.objects.exclude(excluded_categories_text=[]).only(
        "pk", "excluded_categories_text"
    ):
        for text in rule.excluded_categories_text or []:
            text = str(text).strip()[:50]
            if not text:
                continue
            category = (
                Category.objects.filter(code=text).first()
                or Category.objects.filter(name=text).order_by("pk").first()
            )
            if category is None:
                code, n = text, 0
                while not CODE.match(code) or Category.objects.filter(code=code).exists():
                    n += 1
                    code = f"MIG{n:04d}"
                category = Category.objects.create(code=code, name=text)
            rule.excluded_categories.add(category)


def to_text(apps, schema_editor):
    CouponRule = apps.get_model("coupons", "CouponRule")
    for rule in CouponRule.objects.select_related("exchange_product"):
        product = rule.exchange_product
        rule.exchange_product_sku = product.sku if product else ""
        rule.exchange_product_name = product.name if product else ""
        rule.excluded_categories_text = [c.name for c in rule.excluded_categories.all()]
        rule.save(
            update_fields=[
                "exchange_product_sku",
                "exchange_product_name",
                "excluded_categories_text",
            ]
        )


class Migration(migrations.Migration):
    dependencies = [("coupons", "0008_rule_product_master_fields")]

    operations = [migrations.RunPython(to_master, to_text)]
