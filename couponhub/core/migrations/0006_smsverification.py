import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0005_user_must_change_password")]

    operations = [
        migrations.CreateModel(
            name="SmsVerification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("phone", models.CharField(max_length=20, verbose_name="phone")),
                ("purpose", models.CharField(max_length=40, verbose_name="purpose")),
                ("subject", models.CharField(max_length=64)),
                ("code_hash", models.CharField(max_length=64)),
                ("expires_at", models.DateTimeField()),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["phone", "purpose", "-created_at"], name="core_smsver_phone_2152ac_idx")
                ]
            },
        ),
    ]
