"""What the files app hooks into: Graph drive notifications (access.watch), the milestone
approval rule (sourcing.milestones, see ``rules``)."""

from gigbridge.access import watch

from . import watching

# Every workspace drive's root is subscribed to; its notifications ask for a delta pass.
watch.register(watching.wanted_resources, watching.DRIVE_RESOURCE, watching.on_notification)
