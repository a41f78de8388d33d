"""Moving the marketplace's models from engagements to sourcing keeps every row."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from gigbridge.sourcing.models import SyncCursor

BEFORE = [("engagements", "0006_contract_end")]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_sourcing_rows_after_it():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old.get_model("engagements", "SyncCursor").objects.create(
        organization_id="org-1",
        stream="payments",
        value="2026-11-30",
        updated_at="2026-12-01T00:00Z",
    )
    # The content type as the app registry of the time had made it (this table did not change).
    ContentType.objects.filter(app_label="sourcing", model="synccursor").delete()
    ContentType.objects.get_or_create(app_label="engagements", model="synccursor")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    cursor = SyncCursor.objects.get()
    assert (cursor.organization_id, cursor.stream, cursor.value) == (
        "org-1",
        "payments",
        "2026-11-30",
    )
    assert SyncCursor._meta.db_table == "engagements_synccursor"
    assert ContentType.objects.filter(app_label="sourcing", model="synccursor").exists()
    assert not ContentType.objects.filter(app_label="engagements", model="synccursor").exists()
