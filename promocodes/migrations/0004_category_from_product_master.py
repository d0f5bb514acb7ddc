"""使用品类限制 takes a category of the chain's product master: each merchant's own category
becomes (or joins, by code) a master category, and the applications point at it."""

import django.db.models.deletion
from django.db import migrations, models


def to_master(apps, schema_editor):
    Category = apps.get_model("promocodes", "Category")
    Master = apps.get_model("products", "Category")
    Application = apps.get_model("promocodes", "PromoCodeApplication")
    for category in Category.objects.all():
        master, _ = Master.objects.get_or_create(
            code=category.code[:30], defaults={"name": category.name[:50]}
        )
        Application.objects.filter(category=category).update(master_category=master)


def to_merchant_categories(apps, schema_editor):
    Category = apps.get_model("promocodes", "Category")
    Application = apps.get_model("promocodes", "PromoCodeApplication")
    for application in Application.objects.exclude(master_category=None).exclude(merchant=None):
        master = application.master_category
        category, _ = Category.objects.get_or_create(
            merchant=application.merchant, code=master.code, defaults={"name": master.name}
        )
        Application.objects.filter(pk=application.pk).update(category=category)


class Migration(migrations.Migration):
    dependencies = [
        ("promocodes", "0003_constraint_messages"),
        ("products", "0001_product_master"),
    ]

    operations = [
        migrations.AddField(
            model_name="promocodeapplication",
            name="master_category",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="products.category",
                verbose_name="category restriction",
            ),
        ),
        # the schema changes follow in 0005: PostgreSQL alters no table with pending
        # (deferred) constraint checks of the rows written here
        migrations.RunPython(to_master, to_merchant_categories),
    ]
