"""HQ's home page with its KPI cache cold, over 5,000,000 U-value facts and 730,000 daily
redemption facts: the two sums it takes read the indexes alone (index-only scans), not a heap page
a row. Each index gets the summed columns INCLUDEd in place of the plain one it replaces, built
CONCURRENTLY before the old one goes."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0003_promo_daily_fact"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="uvaluecouponfact",
            index=models.Index(
                fields=["-obtained_at", "-coupon_id"],
                include=["org_path", "u_value_paid", "u_value_yuan"],
                name="uvfact_obtained_sums",
            ),
        ),
        RemoveIndexConcurrently(model_name="uvaluecouponfact", name="uvfact_obtained"),
        AddIndexConcurrently(
            model_name="redemptiondailyfact",
            index=models.Index(
                fields=["org_path", "day"],
                include=["count"],
                name="redfact_org_day_count",
                opclasses=["varchar_pattern_ops", "date_ops"],
            ),
        ),
        RemoveIndexConcurrently(model_name="redemptiondailyfact", name="redfact_org_day"),
    ]
