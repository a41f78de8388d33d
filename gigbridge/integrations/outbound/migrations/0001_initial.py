# The rate bucket used to create its table at run time (CREATE TABLE IF NOT EXISTS) with this
# name and shape. A database that already has it keeps it and its rows; others get it here.

from django.db import migrations, models


def create_unless_present(apps, schema_editor):
    model = apps.get_model("outbound", "RateBucket")
    existing = schema_editor.connection.introspection.table_names()
    if model._meta.db_table not in existing:
        schema_editor.create_model(model)


def drop(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("outbound", "RateBucket"))


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            # The state only: the table is created (or kept) below.
            state_operations=[
                migrations.CreateModel(
                    name="RateBucket",
                    fields=[
                        ("name", models.CharField(max_length=200, primary_key=True, serialize=False)),
                        ("tokens", models.FloatField()),
                        ("updated_at", models.FloatField()),
                    ],
                    options={"db_table": "gigbridge_rate_bucket"},
                ),
            ],
        ),
        # After the state change, so the function sees the model.
        migrations.RunPython(create_unless_present, drop),
    ]
