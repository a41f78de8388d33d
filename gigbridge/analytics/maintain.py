"""Keeping the facts and rollups in step with the source tables, in the same transaction.

Analytics is at the top of the layers: it listens to the models it reads (post_save,
post_delete, and pre_save to see a row before it changes) and to the engagements' domain
events; no app calls it. Each change recomputes the request's facts and applies the difference
of its contributions (old facts vs new) to the rollup cells with one atomic upsert per cell
(``INSERT … ON CONFLICT … DO UPDATE SET x = x + excluded.x``: SQLite ≥ 3.24 and PostgreSQL), so
two transactions touching the same cell add up instead of overwriting each other, and a rolled
back transaction takes its rollup changes with it.

Writes that bypass save() on the source models (``.update()``) are covered where they matter:
offer state updates are followed by the engagement's transition (which refreshes the facts);
the sync's revised time entry saves the row (sourcing/sync.py); approval steps are cancelled
with ``.update()`` only while undecided, which no rollup counts; grant expiries and contract
ends' marketplace states are not measured. ``gigbridge analytics check`` proves the whole.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save, pre_save

from gigbridge.access.models import Grant
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest
from gigbridge.people.models import Person
from gigbridge.sourcing.models import ContractEnd, MarketplaceOffer, Payment, TimeEntry

from . import facts
from .models import RequestFact, grain_key, measures

FACT_FIELDS = [f.attname for f in RequestFact._meta.concrete_fields]


# --- applying cells ------------------------------------------------------------------------


def in_grains(cells: dict) -> dict:
    """Each full-key cell also added to the row of every coarser grain its table keeps (the
    all-teams row, …): {(model, grain, key): {measure: value}}."""
    out: dict = {}
    for (model, key), values in cells.items():
        if not any(values.values()):
            continue
        for grain in model.GRAINS:
            target = out.setdefault((model, grain, grain_key(model, key, grain)), {})
            for name, value in values.items():
                target[name] = target.get(name, 0) + value
    return out


def apply(cells: dict) -> None:
    """Add each cell's measures to its rollup rows, the full key's and every coarser grain's
    (made if missing), atomically per row and in the caller's transaction."""
    by_model: dict = {}
    for (model, grain, key), values in in_grains(cells).items():
        if any(values.values()):
            by_model.setdefault(model, []).append((key, grain, values))
    for model, rows in by_model.items():
        # Sorted: two transactions upsert shared rows (the all-teams ones) in the same order,
        # so they wait for each other instead of deadlocking.
        rows.sort(key=lambda row: (row[1], str(row[0])))
        table = connection.ops.quote_name(model._meta.db_table)
        keys, names = [*model.KEY, "grain"], measures(model)
        columns = ", ".join(connection.ops.quote_name(c) for c in keys + names)
        marks = ", ".join(["%s"] * (len(keys) + len(names)))
        sets = ", ".join(
            f"{connection.ops.quote_name(n)} = {table}.{connection.ops.quote_name(n)} "
            f"+ excluded.{connection.ops.quote_name(n)}"
            for n in names
        )
        conflict = ", ".join(connection.ops.quote_name(c) for c in model.KEY)
        # Only quoted column and table names of our own models are formatted in; values are
        # parameters.
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) "  # noqa: S608
            f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
        )
        params = [
            [connection.ops.adapt_datefield_value(key[0]), *key[1:], grain]
            + [int(values.get(n, 0)) for n in names]
            for key, grain, values in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _same(a: RequestFact | None, b: RequestFact | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(getattr(a, f) == getattr(b, f) for f in FACT_FIELDS)


def refresh(request_id: int, *, follow: bool = True) -> None:
    """Recompute one request's facts and move the rollups by the difference."""
    # Locked first: two transactions changing one request (the sync's payment, a person's
    # transition) take turns, and the second computes its difference from the first's result
    # (PostgreSQL reads the committed row after the wait; SQLite has one writer at a time).
    old = RequestFact.objects.select_for_update().filter(pk=request_id).first()
    new = facts.compute(request_id)
    if _same(old, new):
        return
    cells = facts.add(facts.add({}, facts.fact_cells(new)), facts.fact_cells(old), -1)
    if old is not None and (new is None or facts.dims(old) != facts.dims(new)):
        # The request's dimensions changed (a draft edited) or it is gone: its own event rows
        # (approval steps decided in an earlier round, refusals) move with it.
        moved = facts.event_cells(old)
        facts.add(cells, moved, -1)
        if new is not None:
            facts.add(cells, facts.event_cells(new))
    if new is None:
        RequestFact.objects.filter(pk=request_id).delete()
    else:
        new.save(force_insert=old is None)
    apply(cells)
    if follow and new is not None:
        _refresh_rehires(old, new)


def _refresh_rehires(old: RequestFact | None, new: RequestFact) -> None:
    """A freelancer's later engagements are repeat hires because of this one: when its
    contract time or freelancer changes, theirs is looked at again."""
    before = (old.freelancer_id, old.contracted_at) if old else (None, None)
    after = (new.freelancer_id, new.contracted_at)
    if before == after:
        return
    for freelancer_id, at in {before, after}:
        if freelancer_id is None or at is None:
            continue
        later = RequestFact.objects.filter(
            freelancer_id=freelancer_id, contracted_at__gte=at
        ).exclude(pk=new.pk)
        for request_id in later.values_list("pk", flat=True):
            refresh(request_id, follow=False)


def _fact_of_engagement(engagement_id: int) -> RequestFact | None:
    request_id = (
        Engagement.objects.filter(pk=engagement_id).values_list("request_id", flat=True).first()
    )
    if request_id is None:
        return None
    refresh(request_id)
    return RequestFact.objects.filter(pk=request_id).first()


# --- receivers -----------------------------------------------------------------------------
# Each runs in the transaction of the change it hears (joined, no savepoint); a change saved
# outside any transaction (autocommit) gets one of its own for the rollups.


def in_transaction(receiver):
    return transaction.atomic(savepoint=False)(receiver)


@in_transaction
def _request_saved(sender, instance: WorkRequest, raw=False, **kwargs):
    if not raw:
        refresh(instance.pk)


@in_transaction
def _request_deleted(sender, instance: WorkRequest, **kwargs):
    refresh(instance.pk)


@in_transaction
def _engagement_changed(sender, instance: Engagement, raw=False, **kwargs):
    if not raw:
        refresh(instance.request_id)


@in_transaction
def _engagement_row_changed(sender, instance, raw=False, **kwargs):
    """Offers, contract ends and grants: facts of their engagement's request."""
    if not raw:
        _fact_of_engagement(instance.engagement_id)


@in_transaction
def _person_saved(sender, instance: Person, raw=False, **kwargs):
    if raw:
        return
    for request_id in RequestFact.objects.filter(freelancer_id=instance.pk).values_list(
        "pk", flat=True
    ):
        refresh(request_id)


# Event rows: the cells of the row as stored before the change are taken away, the cells of
# the row as saved are added (a revised time entry moves by its difference, a moved date from
# one month to the other).

EVENT_CELLS = {
    Payment: facts.payment_cells,
    TimeEntry: facts.time_cells,
}


def _stored_cells(model, pk, key) -> dict:
    if pk is None:
        return {}
    row = model.objects.filter(pk=pk).first()
    if row is None:
        return {}
    if model is ApprovalStep:
        return facts.step_cells(row, key)
    return EVENT_CELLS[model](row, key)


def _key_of(instance) -> tuple | None:
    if isinstance(instance, ApprovalStep):
        fact = RequestFact.objects.filter(pk=instance.request_id).first()
        if fact is None:
            refresh(instance.request_id)
            fact = RequestFact.objects.filter(pk=instance.request_id).first()
    else:
        fact = RequestFact.objects.filter(engagement_id=instance.engagement_id).first()
        if fact is None:
            fact = _fact_of_engagement(instance.engagement_id)
    return facts.dims(fact) if fact else None


def _cells_of(instance, key) -> dict:
    if isinstance(instance, ApprovalStep):
        return facts.step_cells(instance, key)
    return EVENT_CELLS[type(instance)](instance, key)


@in_transaction
def _event_before(sender, instance, raw=False, **kwargs):
    if raw:
        return
    key = _key_of(instance)
    instance._analytics_before = _stored_cells(sender, instance.pk, key) if key else {}


@in_transaction
def _event_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    key = _key_of(instance)
    if key is None:
        return
    cells = facts.add({}, _cells_of(instance, key))
    facts.add(cells, getattr(instance, "_analytics_before", {}), -1)
    instance._analytics_before = {}
    apply(cells)
    if not isinstance(instance, ApprovalStep):
        _fact_of_engagement(instance.engagement_id)  # paid, hours, outstanding


@in_transaction
def _event_deleted(sender, instance, **kwargs):
    key = _key_of(instance)
    if key is None:
        return
    apply(facts.add({}, _cells_of(instance, key), -1))
    if not isinstance(instance, ApprovalStep):
        _fact_of_engagement(instance.engagement_id)


@in_transaction
def _audit_recorded(sender, instance: AuditEvent, created=False, raw=False, **kwargs):
    if raw or not created:
        return
    if instance.action == facts.REFUSAL_ACTION and instance.object_type == "workrequest":
        request_id = int(instance.object_id)
        refresh(request_id)
        fact = RequestFact.objects.filter(pk=request_id).first()
        if fact is not None:
            apply(facts.refusal_cells(instance, facts.dims(fact)))
    elif instance.object_type == "engagement" and instance.action in (
        *facts.CONTRACT_ACTIONS,
        facts.CANCEL_ACTION,
    ):
        _fact_of_engagement(int(instance.object_id))


UID = "analytics.maintain"


def connect() -> None:
    """Called from AnalyticsConfig.ready(): every receiver, each once (dispatch_uid)."""
    post_save.connect(_request_saved, sender=WorkRequest, dispatch_uid=f"{UID}.request")
    post_delete.connect(_request_deleted, sender=WorkRequest, dispatch_uid=f"{UID}.request.del")
    post_save.connect(_engagement_changed, sender=Engagement, dispatch_uid=f"{UID}.engagement")
    for model in (MarketplaceOffer, ContractEnd, Grant):
        name = model._meta.model_name
        post_save.connect(_engagement_row_changed, sender=model, dispatch_uid=f"{UID}.{name}")
        post_delete.connect(_engagement_row_changed, sender=model, dispatch_uid=f"{UID}.{name}.del")
    post_save.connect(_person_saved, sender=Person, dispatch_uid=f"{UID}.person")
    for model in (Payment, TimeEntry, ApprovalStep):
        name = model._meta.model_name
        pre_save.connect(_event_before, sender=model, dispatch_uid=f"{UID}.{name}.pre")
        post_save.connect(_event_saved, sender=model, dispatch_uid=f"{UID}.{name}")
        post_delete.connect(_event_deleted, sender=model, dispatch_uid=f"{UID}.{name}.del")
    post_save.connect(_audit_recorded, sender=AuditEvent, dispatch_uid=f"{UID}.audit")
