"""Outbox handlers of the files app (each check-then-act)."""
