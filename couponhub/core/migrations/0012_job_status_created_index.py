"""The operator's and the administrator's home pages count jobs queued or running and jobs failed
in the last day: an index on (status, -created_at) instead of reading every job ever run.
Built CONCURRENTLY."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0011_sms_verification_chinese_name"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="job",
            index=models.Index(fields=["status", "-created_at"], name="job_status_created"),
        ),
    ]
