"""The audit log: one row per committed change, written in the change's transaction."""
