from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0004_request_id_job_worker_sms_delivery")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(default=False, verbose_name="must change password"),
        ),
    ]
