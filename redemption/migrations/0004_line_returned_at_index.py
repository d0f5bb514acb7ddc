from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("redemption", "0003_outside_shop_nonce")]

    operations = [
        migrations.AddIndex(
            model_name="redemptionline",
            index=models.Index(
                condition=models.Q(("returned_at__isnull", False)),
                fields=["returned_at"],
                name="line_returned_at",
            ),
        ),
    ]
