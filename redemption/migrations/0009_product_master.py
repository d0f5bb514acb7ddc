"""An outside item coupon's dish comes from the product master (a SKU the master did not know is
added to it with the name the activity had); a redemption keeps why its order was not linked."""

import django.db.models.deletion
from django.db import migrations, models


def to_master(apps, schema_editor):
    OutsideActivity = apps.get_model("redemption", "OutsideActivity")
    Product = apps.get_model("products", "Product")
    for activity in OutsideActivity.objects.exclude(sku=""):
        product, _ = Product.objects.get_or_create(
            sku=activity.sku.strip()[:40], defaults={"name": activity.sku_name or activity.sku}
        )
        OutsideActivity.objects.filter(pk=activity.pk).update(product=product)


def to_text(apps, schema_editor):
    OutsideActivity = apps.get_model("redemption", "OutsideActivity")
    for activity in OutsideActivity.objects.select_related("product").exclude(product=None):
        OutsideActivity.objects.filter(pk=activity.pk).update(
            sku=activity.product.sku, sku_name=activity.product.name
        )


class Migration(migrations.Migration):
    dependencies = [
        ("redemption", "0008_merge_words_backoffice"),
        ("products", "0001_product_master"),
    ]

    operations = [
        migrations.AddField(
            model_name="redemption",
            name="link_refusal",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="why the order was not linked"
            ),
        ),
        migrations.AddField(
            model_name="outsideactivity",
            name="product",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="products.product",
                verbose_name="dish / product",
            ),
        ),
        migrations.RunPython(to_master, to_text),
    ]
