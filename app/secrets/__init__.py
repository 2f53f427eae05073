"""User secrets: named values a user injects into processes as variables or files."""
