"""Two indexes of the ten-million-row coupon table that no query needs, each kept up to date on
every coupon written (generation, claims, redemption):

- coupon_campaign (campaign_id) is the same index as the campaign foreign key's own;
- the member foreign key's index (member_id) is the first column of coupon_member_status
  (member_id, status, valid_to), which answers every "by member" lookup as well.

Dropped CONCURRENTLY (no lock on the table while it goes)."""

import django.db.models.deletion
from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations, models

MEMBER_FK_INDEX = "coupons_coupon_member_id_9524c156"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("coupons", "0007_merge_list_indexes"),
        ("members", "0001_initial"),
    ]

    operations = [
        RemoveIndexConcurrently(model_name="coupon", name="coupon_campaign"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="coupon",
                    name="member",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="coupons",
                        to="members.member",
                        verbose_name="member",
                    ),
                )
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {MEMBER_FK_INDEX}",
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {MEMBER_FK_INDEX} "
                    "ON coupons_coupon (member_id)",
                )
            ],
        ),
    ]
