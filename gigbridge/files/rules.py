"""The files app's rule on milestone approvals (registered with sourcing.milestones)."""
