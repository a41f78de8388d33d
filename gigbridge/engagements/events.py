"""Engagements' domain events: what other apps (access, sourcing) react to instead of being
called. Engagements publishes; it never imports the apps that listen.

Django signals rather than a bus of our own: they are what Django apps already use to be told
of another app's changes, receivers connect in their AppConfig.ready(), and ``send`` has the
semantics the direct calls they replace had: receivers run at once, in the sender's transaction,
in the order they connected, and an exception propagates to the sender (so a reaction that fails
rolls the transition back, as before). What a reaction does outside the database (a Graph or
Upwork call) it enqueues as an outbox job, which runs after commit: stored with the transaction,
handled after it, as DESIGN.md asks.

Every signal is sent with ``sender=Engagement``.
"""

from django.dispatch import Signal

# An engagement was made from an approved request (inside the approval's transaction, after its
# audit event). Arguments: engagement.
engagement_created = Signal()

# A person (not the marketplace sync, not the scheduler) asked for a transition that the
# lifecycle allows; sent before anything changes. A receiver refuses it by raising
# ``errors.InvalidTransition`` (e.g. sourcing: a running Upwork contract is ended through
# ``sourcing.ending``, never by hand). Arguments: engagement, to_state.
engagement_transition_requested = Signal()

# An engagement moved to a new state (inside the transition's transaction, after the new state
# is saved and before its audit event). Arguments: engagement, from_state, to_state, reason.
engagement_transitioned = Signal()
