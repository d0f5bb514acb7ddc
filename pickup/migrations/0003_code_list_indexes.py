"""Indexes of the pickup code list at ten million codes: (batch, serial) and (card_type, serial)
replace the two foreign-key indexes, and two partial indexes serve the rare statuses (used,
disabled) in serial order. Built CONCURRENTLY (writes go on meanwhile), each new index before
the one it replaces is dropped."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("pickup", "0002_orders_red_packets"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="pickupcode",
            index=models.Index(fields=["batch", "serial"], name="pickup_code_batch_serial"),
        ),
        AddIndexConcurrently(
            model_name="pickupcode",
            index=models.Index(fields=["card_type", "serial"], name="pickup_code_cardtype_serial"),
        ),
        AddIndexConcurrently(
            model_name="pickupcode",
            index=models.Index(
                condition=models.Q(("status", "used")),
                fields=["serial"],
                name="pickup_code_used_serial",
            ),
        ),
        AddIndexConcurrently(
            model_name="pickupcode",
            index=models.Index(
                condition=models.Q(("enabled", False)),
                fields=["serial"],
                name="pickup_code_disabled_serial",
            ),
        ),
        migrations.AlterField(
            model_name="pickupcode",
            name="batch",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="codes",
                to="pickup.codebatch",
                verbose_name="batch",
            ),
        ),
        migrations.AlterField(
            model_name="pickupcode",
            name="card_type",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="codes",
                to="pickup.cardtype",
                verbose_name="card type",
            ),
        ),
    ]
