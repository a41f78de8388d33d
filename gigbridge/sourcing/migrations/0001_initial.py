"""The marketplace's models, taken over from engagements (its migration 0007 let them go).

State only: the tables keep their names (``db_table``: engagements_*), so an existing database
keeps every row, and a new one has them from engagements' earlier migrations. Their content
types move too, so permissions and anything else pointing at them follow.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MOVED = ['contractend', 'milestone', 'payment', 'proposal', 'marketplaceoffer', 'sourcing', 'spendalert', 'synccursor', 'hoursapproval', 'milestonedecision', 'timeentry']


def move_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="engagements", model__in=MOVED).update(
        app_label="sourcing"
    )


def restore_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="sourcing", model__in=MOVED).update(
        app_label="engagements"
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('engagements', '0007_move_marketplace_to_sourcing'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ContractEnd',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('reason', models.CharField(help_text='A code of sourcing.ending.REASONS', max_length=30)),
                        ('feedback', models.TextField(blank=True, help_text='For the freelancer')),
                        ('ended_on', models.DateField()),
                        ('ended_at', models.DateTimeField()),
                        ('marketplace_state', models.CharField(choices=[('none', 'no marketplace contract'), ('queued', 'telling Upwork'), ('ended', 'ended on Upwork'), ('failed', 'Upwork refused')], default='none', max_length=10)),
                        ('marketplace_error', models.CharField(blank=True, max_length=500)),
                        ('ended_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('engagement', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='ending', to='engagements.engagement')),
                    ],
                    options={
                        'db_table': 'engagements_contractend',
                    },
                ),
                migrations.CreateModel(
                    name='Milestone',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('upwork_id', models.CharField(max_length=64, unique=True)),
                        ('sequence', models.PositiveIntegerField(default=0)),
                        ('description', models.CharField(blank=True, max_length=500)),
                        ('amount', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                        ('state', models.CharField(max_length=20)),
                        ('submitted_at', models.DateTimeField(blank=True, null=True)),
                        ('approved_at', models.DateTimeField(blank=True, null=True)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='milestones', to='engagements.engagement')),
                    ],
                    options={
                        'db_table': 'engagements_milestone',
                        'ordering': ['sequence', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Payment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('transaction_id', models.CharField(max_length=64, unique=True)),
                        ('contract_id', models.CharField(max_length=64)),
                        ('kind', models.CharField(blank=True, max_length=40)),
                        ('description', models.CharField(blank=True, max_length=500)),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14)),
                        ('currency', models.CharField(max_length=3)),
                        ('amount_program', models.DecimalField(decimal_places=2, max_digits=14)),
                        ('paid_at', models.DateTimeField()),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='payments', to='engagements.engagement')),
                    ],
                    options={
                        'db_table': 'engagements_payment',
                        'ordering': ['paid_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Proposal',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('upwork_id', models.CharField(max_length=64, unique=True)),
                        ('freelancer_upwork_id', models.CharField(blank=True, max_length=64)),
                        ('freelancer_name', models.CharField(blank=True, max_length=200)),
                        ('freelancer_email', models.EmailField(blank=True, max_length=254)),
                        ('profile_key', models.CharField(blank=True, max_length=100)),
                        ('profile_url', models.URLField(blank=True, max_length=300)),
                        ('country', models.CharField(blank=True, max_length=2)),
                        ('rate', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True)),
                        ('cover_letter', models.TextField(blank=True)),
                        ('state', models.CharField(blank=True, help_text="Upwork's status", max_length=20)),
                        ('shortlisted', models.BooleanField(default=False)),
                        ('picked', models.BooleanField(default=False)),
                        ('received_at', models.DateTimeField()),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='proposals', to='engagements.engagement')),
                    ],
                    options={
                        'db_table': 'engagements_proposal',
                        'ordering': ['received_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='MarketplaceOffer',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('upwork_id', models.CharField(blank=True, max_length=64, null=True, unique=True)),
                        ('state', models.CharField(choices=[('queued', 'Queued'), ('open', 'Open'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('contract_type', models.CharField(max_length=12)),
                        ('amount', models.DecimalField(decimal_places=2, help_text='Most it can cost', max_digits=14)),
                        ('currency', models.CharField(max_length=3)),
                        ('terms', models.JSONField(default=dict)),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('created_at', models.DateTimeField()),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('answered_at', models.DateTimeField(blank=True, null=True)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='offers', to='engagements.engagement')),
                        ('proposal', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='offers', to='sourcing.proposal')),
                    ],
                    options={
                        'db_table': 'engagements_marketplaceoffer',
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Sourcing',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('organization_id', models.CharField(blank=True, help_text='Upwork organization', max_length=64)),
                        ('job_posting_id', models.CharField(blank=True, db_index=True, max_length=64)),
                        ('posting_state', models.CharField(choices=[('none', 'None'), ('queued', 'Queued'), ('posted', 'Posted'), ('failed', 'Failed'), ('closed', 'Closed')], default='none', max_length=10)),
                        ('contract_id', models.CharField(blank=True, db_index=True, max_length=64)),
                        ('contract_status', models.CharField(blank=True, max_length=20)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                        ('updated_at', models.DateTimeField()),
                        ('engagement', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='sourcing', to='engagements.engagement')),
                    ],
                    options={
                        'db_table': 'engagements_sourcing',
                    },
                ),
                migrations.CreateModel(
                    name='SpendAlert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scope', models.CharField(max_length=100)),
                        ('threshold', models.PositiveIntegerField()),
                        ('spent', models.DecimalField(decimal_places=2, max_digits=14)),
                        ('budget', models.DecimalField(decimal_places=2, max_digits=14)),
                        ('sent_at', models.DateTimeField()),
                    ],
                    options={
                        'db_table': 'engagements_spendalert',
                        'constraints': [models.UniqueConstraint(fields=('scope', 'threshold'), name='one_spend_alert')],
                    },
                ),
                migrations.CreateModel(
                    name='SyncCursor',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('organization_id', models.CharField(max_length=64)),
                        ('stream', models.CharField(max_length=120)),
                        ('value', models.CharField(blank=True, max_length=200)),
                        ('updated_at', models.DateTimeField()),
                    ],
                    options={
                        'db_table': 'engagements_synccursor',
                        'constraints': [models.UniqueConstraint(fields=('organization_id', 'stream'), name='one_sync_cursor')],
                    },
                ),
                migrations.CreateModel(
                    name='HoursApproval',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('week_start', models.DateField(help_text="The week's Monday")),
                        ('hours', models.DecimalField(decimal_places=2, max_digits=8)),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14)),
                        ('currency', models.CharField(max_length=3)),
                        ('comment', models.TextField(blank=True)),
                        ('approved_at', models.DateTimeField()),
                        ('approved_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='hours_approvals', to='engagements.engagement')),
                    ],
                    options={
                        'db_table': 'engagements_hoursapproval',
                        'ordering': ['week_start', 'id'],
                        'constraints': [models.UniqueConstraint(fields=('engagement', 'week_start'), name='one_hours_approval_a_week')],
                    },
                ),
                migrations.CreateModel(
                    name='MilestoneDecision',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('approve', 'Approve'), ('changes', 'ask for changes'), ('activate', 'Activate')], max_length=10)),
                        ('amount', models.DecimalField(blank=True, decimal_places=2, help_text='Approved to pay', max_digits=14, null=True)),
                        ('currency', models.CharField(blank=True, max_length=3)),
                        ('comment', models.TextField(blank=True)),
                        ('state', models.CharField(choices=[('queued', 'Queued'), ('sent', 'Sent'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField()),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('failed_at', models.DateTimeField(blank=True, null=True)),
                        ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('milestone', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='decisions', to='sourcing.milestone')),
                    ],
                    options={
                        'db_table': 'engagements_milestonedecision',
                        'ordering': ['created_at', 'id'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('kind__in', ['approve', 'activate']), models.Q(('state', 'failed'), _negated=True)), fields=('milestone', 'kind'), name='one_live_payment_or_funding_a_milestone')],
                    },
                ),
                migrations.CreateModel(
                    name='TimeEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('contract_id', models.CharField(max_length=64)),
                        ('date', models.DateField()),
                        ('hours', models.DecimalField(decimal_places=2, max_digits=8)),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14)),
                        ('memo', models.CharField(blank=True, max_length=500)),
                        ('synced_at', models.DateTimeField()),
                        ('engagement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='time_entries', to='engagements.engagement')),
                    ],
                    options={
                        'db_table': 'engagements_timeentry',
                        'ordering': ['date', 'id'],
                        'constraints': [models.UniqueConstraint(fields=('contract_id', 'date'), name='one_time_entry_a_day')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
