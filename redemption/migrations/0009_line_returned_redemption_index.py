"""The records page of one store at five million lines:

- (store, -created_at) INCLUDE (id) replaces (store, -created_at): a store's redemptions newest
  first, with the ids their lines join on, come off the index alone instead of one heap page a
  redemption (a store's redemptions lie among every store's);
- the store foreign key's own index goes: the new one starts with the store;
- a partial index of the returned lines by redemption: 状态 退券 probes it instead of reading each
  of the store's lines.

Built CONCURRENTLY, the new index before the old one goes."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models
from django.db.models import Q

STORE_FK_INDEX = "redemption_redemption_store_id_46f24981"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("redemption", "0008_merge_words_backoffice"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="redemption",
            index=models.Index(
                fields=["store", "-created_at"], include=["id"], name="redemption_store_time_id"
            ),
        ),
        RemoveIndexConcurrently(model_name="redemption", name="redemption_store_time"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="redemption",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="redemptions",
                        to="core.org",
                        verbose_name="store",
                    ),
                )
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {STORE_FK_INDEX}",
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {STORE_FK_INDEX} "
                    "ON redemption_redemption (store_id)",
                )
            ],
        ),
        AddIndexConcurrently(
            model_name="redemptionline",
            index=models.Index(
                condition=Q(returned_at__isnull=False),
                fields=["redemption"],
                name="line_returned_redemption",
            ),
        ),
    ]
