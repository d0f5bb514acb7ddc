from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [("redemption", "0009_product_master")]

    operations = [
        migrations.RemoveConstraint(model_name="outsideactivity", name="outside_item_has_sku"),
        migrations.RemoveField(model_name="outsideactivity", name="sku"),
        migrations.RemoveField(model_name="outsideactivity", name="sku_name"),
        migrations.AddConstraint(
            model_name="outsideactivity",
            constraint=models.CheckConstraint(
                condition=~Q(coupon_type="item") | Q(product__isnull=False),
                name="outside_item_has_product",
                violation_error_message="Dish / product: required for an item coupon.",
            ),
        ),
    ]
