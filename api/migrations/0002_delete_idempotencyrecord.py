from django.db import migrations

# The records move to core (keyed by the client's public id), so that the API's building blocks
# live in couponhub.core; answers stored before the move still replay.
COPY = """
INSERT INTO core_idempotencyrecord
    (client_key, key, request_hash, status_code, response, created_at)
SELECT c.client_id, r.key, r.request_hash, r.status_code, coalesce(r.response_body::text, ''),
       r.created_at
FROM api_idempotencyrecord r JOIN api_apiclient c ON c.id = r.client_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("core", "0003_idempotencyrecord"),
    ]

    operations = [
        migrations.RunSQL(COPY, migrations.RunSQL.noop),
        migrations.DeleteModel(name="IdempotencyRecord"),
    ]
