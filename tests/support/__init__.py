"""Helpers shared by the test suite: databases, factories and the server process."""
