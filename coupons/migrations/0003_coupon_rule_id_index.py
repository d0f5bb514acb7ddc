"""The coupon list filtered by rule at ten million coupons: (rule, id) replaces the foreign key's
index on rule alone, so one rule's coupons are read newest first off the index (and counted up
to the list's cap) instead of sorting all of them. Built CONCURRENTLY before the old one goes."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("coupons", "0002_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="coupon",
            index=models.Index(fields=["rule", "id"], name="coupon_rule_id"),
        ),
        migrations.AlterField(
            model_name="coupon",
            name="rule",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="coupons",
                to="coupons.couponrule",
                verbose_name="coupon rule",
            ),
        ),
    ]
