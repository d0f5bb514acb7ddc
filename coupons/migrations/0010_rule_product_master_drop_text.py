from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("coupons", "0009_rule_product_master_data")]

    operations = [
        migrations.RemoveField("couponrule", "exchange_product_sku"),
        migrations.RemoveField("couponrule", "exchange_product_name"),
        migrations.RemoveField("couponrule", "excluded_categories_text"),
    ]
