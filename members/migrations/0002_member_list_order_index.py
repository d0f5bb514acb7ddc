"""The member list's order (newest registration first) as an index: at a million members its
first page and keyset pages are read off the index instead of sorting every member. Built
CONCURRENTLY."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="member",
            index=models.Index(fields=["-registered_at", "-id"], name="member_list_order"),
        ),
    ]
