from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [("promocodes", "0004_category_from_product_master")]

    operations = [
        migrations.RemoveConstraint(
            model_name="promocodeapplication", name="promo_app_category_needs_merchant"
        ),
        migrations.RemoveField(model_name="promocodeapplication", name="category"),
        migrations.RenameField("promocodeapplication", "master_category", "category"),
        migrations.AddConstraint(
            model_name="promocodeapplication",
            constraint=models.CheckConstraint(
                condition=Q(category__isnull=True) | Q(merchant__isnull=False),
                name="promo_app_category_needs_merchant",
                violation_error_message="Category restriction: restrict the merchant first.",
            ),
        ),
        migrations.DeleteModel(name="Category"),
    ]
