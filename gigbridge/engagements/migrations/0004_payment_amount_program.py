from django.db import migrations, models
from django.db.models import F


def same_amount(apps, schema_editor):
    # Payments synced before exchange rates existed were counted as they were paid.
    apps.get_model("engagements", "Payment").objects.update(amount_program=F("amount"))


class Migration(migrations.Migration):
    dependencies = [("engagements", "0003_marketplace")]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="amount_program",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=14),
            preserve_default=False,
        ),
        migrations.RunPython(same_amount, migrations.RunPython.noop),
    ]
