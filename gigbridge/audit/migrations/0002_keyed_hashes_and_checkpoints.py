"""Keyed audit hashes and checkpoints.

Events already stored keep their plain SHA-256 hash (version 1) and still verify under it; every
event written from now on is HMAC-SHA256 with the audit key (version 2). So that nobody without
the key can later pass keyed events off as old unkeyed ones (rewriting them with plain hashes),
this migration seals the unkeyed part once: the audit head keeps how many events it has and an
HMAC over that count and the last of their hashes.
"""

from django.conf import settings
from django.db import migrations, models


def seal_unkeyed_events(apps, schema_editor):
    from gigbridge.audit.keys import legacy_seal

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditHead = apps.get_model("audit", "AuditHead")
    last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    if last is None:
        return  # nothing written unkeyed: every event will be keyed
    head, _ = AuditHead.objects.get_or_create(id=1)
    head.legacy_seq = last.seq
    head.legacy_seal = legacy_seal(settings.GIGBRIDGE_AUDIT_KEY, last.seq, last.hash)
    head.save(update_fields=["legacy_seq", "legacy_seal"])


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField(unique=True)),
                ("written_at", models.DateTimeField()),
                ("events", models.BigIntegerField()),
                ("last_hash", models.CharField(max_length=64)),
            ],
            options={"ordering": ["number"]},
        ),
        # Existing rows: version 1 (plain SHA-256); the default for new rows becomes 2 below.
        migrations.AddField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.AddField(
            model_name="audithead",
            name="legacy_seq",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="audithead",
            name="legacy_seal",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(seal_unkeyed_events, migrations.RunPython.noop),
    ]
