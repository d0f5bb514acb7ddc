import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coupons", "0007_merge_list_indexes"),
        ("products", "0001_product_master"),
    ]

    operations = [
        migrations.RenameField("couponrule", "excluded_categories", "excluded_categories_text"),
        migrations.AddField(
            model_name="couponrule",
            name="exchange_product",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="products.product",
                verbose_name="exchange product",
            ),
        ),
        migrations.AddField(
            model_name="couponrule",
            name="excluded_categories",
            field=models.ManyToManyField(
                blank=True,
                related_name="+",
                to="products.category",
                verbose_name="excluded product categories",
            ),
        ),
    ]
