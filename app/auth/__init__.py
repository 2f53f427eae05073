"""API tokens and request authentication."""
