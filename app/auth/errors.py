from __future__ import annotations


class AuthenticationError(Exception):
    """The request carries no valid credentials; rendered as 401."""
