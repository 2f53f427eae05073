"""Python SDK for the usersecrets API.

    from app.sdk import Client

    with Client("http://127.0.0.1:8080", token) as client:
        client.create_secret("db-password", value, env_name="DB_PASSWORD")
        for secret in client.list_secrets():
            print(secret.name, secret.version)

Values go to the server and never come back: results carry metadata only.
"""

from app.sdk.client import UNSET, Client
from app.sdk.errors import (
    APIError,
    Conflict,
    ConnectionFailed,
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServerError,
    Unauthorized,
    UserSecretsError,
    ValidationError,
)
from app.sdk.models import Secret, User

__all__ = [
    "UNSET",
    "APIError",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "FieldError",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "Secret",
    "ServerError",
    "Unauthorized",
    "User",
    "UserSecretsError",
    "ValidationError",
]
