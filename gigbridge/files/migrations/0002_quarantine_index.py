# The quarantine's rows among every deliverable version: a partial index (SQLite and PostgreSQL),
# for the quarantine page (newest first) and the reviewers' home count.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("files", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="deliverable",
            index=models.Index(
                condition=models.Q(("state__in", ["quarantining", "quarantined"])),
                fields=["added_at"],
                name="files_quarantine_added",
            ),
        ),
    ]
