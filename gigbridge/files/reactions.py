"""What the files app hooks into: Graph drive notifications (access.watch), the milestone
approval rule (sourcing.milestones). Filled in by the watching and rules modules."""
