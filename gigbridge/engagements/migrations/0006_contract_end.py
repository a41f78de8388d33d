# Named 0006 (after the milestone decisions branch's 0005); depends on 0004 until they merge.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0005_milestone_decisions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="sourcing",
            name="posting_state",
            field=models.CharField(
                choices=[
                    ("none", "None"),
                    ("queued", "Queued"),
                    ("posted", "Posted"),
                    ("failed", "Failed"),
                    ("closed", "Closed"),
                ],
                default="none",
                max_length=10,
            ),
        ),
        migrations.CreateModel(
            name="ContractEnd",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        help_text="A code of engagements.ending.REASONS", max_length=30
                    ),
                ),
                ("feedback", models.TextField(blank=True, help_text="For the freelancer")),
                ("ended_on", models.DateField()),
                ("ended_at", models.DateTimeField()),
                (
                    "marketplace_state",
                    models.CharField(
                        choices=[
                            ("none", "no marketplace contract"),
                            ("queued", "telling Upwork"),
                            ("ended", "ended on Upwork"),
                            ("failed", "Upwork refused"),
                        ],
                        default="none",
                        max_length=10,
                    ),
                ),
                ("marketplace_error", models.CharField(blank=True, max_length=500)),
                (
                    "ended_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "engagement",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ending",
                        to="engagements.engagement",
                    ),
                ),
            ],
        ),
    ]
