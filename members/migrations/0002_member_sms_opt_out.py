from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="member",
            name="sms_opt_out",
            field=models.BooleanField(
                db_default=False, default=False, verbose_name="opted out of marketing SMS"
            ),
        ),
    ]
