"""The marketplace's models moved to the sourcing app (sourcing 0001 takes them over).

State only: each keeps its table (``db_table``), so no row is copied or lost.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('engagements', '0006_contract_end'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='contractend',
                    name='ended_by',
                ),
                migrations.RemoveField(
                    model_name='contractend',
                    name='engagement',
                ),
                migrations.RemoveField(
                    model_name='hoursapproval',
                    name='approved_by',
                ),
                migrations.RemoveField(
                    model_name='hoursapproval',
                    name='engagement',
                ),
                migrations.RemoveField(
                    model_name='marketplaceoffer',
                    name='engagement',
                ),
                migrations.RemoveField(
                    model_name='marketplaceoffer',
                    name='proposal',
                ),
                migrations.RemoveField(
                    model_name='milestone',
                    name='engagement',
                ),
                migrations.RemoveField(
                    model_name='milestonedecision',
                    name='milestone',
                ),
                migrations.RemoveField(
                    model_name='milestonedecision',
                    name='by',
                ),
                migrations.RemoveField(
                    model_name='payment',
                    name='engagement',
                ),
                migrations.RemoveField(
                    model_name='proposal',
                    name='engagement',
                ),
                migrations.RemoveField(
                    model_name='sourcing',
                    name='engagement',
                ),
                migrations.DeleteModel(
                    name='SpendAlert',
                ),
                migrations.DeleteModel(
                    name='SyncCursor',
                ),
                migrations.RemoveField(
                    model_name='timeentry',
                    name='engagement',
                ),
                migrations.DeleteModel(
                    name='ContractEnd',
                ),
                migrations.DeleteModel(
                    name='HoursApproval',
                ),
                migrations.DeleteModel(
                    name='MarketplaceOffer',
                ),
                migrations.DeleteModel(
                    name='Milestone',
                ),
                migrations.DeleteModel(
                    name='MilestoneDecision',
                ),
                migrations.DeleteModel(
                    name='Payment',
                ),
                migrations.DeleteModel(
                    name='Proposal',
                ),
                migrations.DeleteModel(
                    name='Sourcing',
                ),
                migrations.DeleteModel(
                    name='TimeEntry',
                ),
            ],
            database_operations=[],
        ),
    ]
