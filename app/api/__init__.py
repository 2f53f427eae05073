"""The HTTP API: blueprints, JSON errors and request plumbing."""
