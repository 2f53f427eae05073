"""The OpenAPI 3.1 document of the HTTP API, served at `GET /api/v2/openapi.json`.

The document is written by hand next to the views it describes. The test suite checks
that every route of the application appears here with each of its methods, that every
described operation exists, and that real responses validate against the schemas.
Field limits come from the validation modules, so the document and the checks agree.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint

from app.audit.models import AUDIT_ACTIONS
from app.audit.query import DEFAULT_LIMIT, MAX_LIMIT
from app.audit.recorder import RESOURCE_TYPES
from app.auth.tokens import MAX_LIFETIME
from app.orgs.models import ORG_MEMBER_ROLES
from app.secrets.validation import (
    DESCRIPTION_MAX_LENGTH,
    ENV_NAME_MAX_BYTES,
    FILE_PATH_MAX_BYTES,
    NAME_MAX_LENGTH,
    RESERVED_ENV_NAME_PREFIXES,
    VALUE_MAX_BYTES,
)
from app.users.models import SITE_ROLES, USER_STATUSES

blueprint = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.1.0"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
JSON = "application/json"
Schema = dict[str, Any]


@blueprint.get("/api/v2/openapi.json")
def openapi_json() -> dict[str, Any]:
    """Serve the document. It needs no token, because it describes the API, not data."""
    return openapi_document()


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Build the OpenAPI document; it is the same for the life of the process."""
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "usersecrets API",
            "version": "2",
            "description": INFO_DESCRIPTION,
        },
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "secrets", "description": "A user's own secrets."},
            {"name": "users", "description": "User accounts and site roles."},
            {"name": "tokens", "description": "API tokens of a user."},
            {"name": "organizations", "description": "Organizations and their members."},
            {"name": "audit", "description": "The audit log of changes."},
            {"name": "service", "description": "Health and this document."},
        ],
        "paths": {
            **service_paths(),
            **user_paths(),
            **token_paths(),
            **organization_paths(),
            **secret_paths(),
            **audit_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "An API token `<id>-<secret>`, as printed by "
                        "`usersecrets tokens create USERNAME` or returned once by "
                        "`POST /api/v2/users/{user}/tokens`."
                    ),
                }
            },
            "schemas": {
                **common_schemas(),
                **user_schemas(),
                **organization_schemas(),
                **secret_schemas(),
            },
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "responses": ERROR_RESPONSES,
        },
    }


INFO_DESCRIPTION = """\
Per-user secrets: each user keeps named values, with an optional environment variable
name and an optional file path for injection. Values are write-only: no response ever
contains one.

Authentication: every operation except `/healthz` and this document needs
`Authorization: Bearer <token>`.

Errors: every error response has the body of the `Error` schema. `validations` lists each
failing field with the rule it breaks, and never repeats a submitted value.

Visibility: a user or secret the caller may not read is reported as 404, the same as one
that does not exist. A change to a collection the caller may read but not change is 403.

Every response carries an `X-Request-Id` header; the server's log line for the request
carries the same id.
"""


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def json_body(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def request_body(schema_name: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": ref("schemas", schema_name)}}}


def errors(*names: str) -> dict[str, Any]:
    """Return the responses for the named error statuses, by status code."""
    return {ERROR_STATUS[name]: ref("responses", name) for name in names}


# The errors every authenticated operation with a JSON request body can return.
BODY_ERRORS = ("BadRequest", "Unauthorized", "PayloadTooLarge", "UnsupportedMediaType")


def operation(
    operation_id: str,
    tag: str,
    summary: str,
    responses: dict[str, Any],
    *,
    description: str = "",
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    public: bool = False,
) -> dict[str, Any]:
    """Build an operation object; `body` names the request body schema, if any."""
    result: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if description:
        result["description"] = description
    if parameters:
        result["parameters"] = parameters
    if body is not None:
        result["requestBody"] = request_body(body)
    if public:
        result["security"] = []
    result["responses"] = responses
    return result


# Components shared by all paths.

ERROR_STATUS = {
    "BadRequest": "400",
    "Unauthorized": "401",
    "Forbidden": "403",
    "NotFound": "404",
    "Conflict": "409",
    "PreconditionFailed": "412",
    "PayloadTooLarge": "413",
    "UnsupportedMediaType": "415",
    "ServiceUnavailable": "503",
}

ERROR_RESPONSES = {
    "BadRequest": json_body(
        ref("schemas", "Error"),
        "Invalid request: `validations` names every failing field with its rule.",
    ),
    "Unauthorized": json_body(
        ref("schemas", "Error"),
        "The bearer token is missing, malformed, unknown, expired, or belongs to a suspended user.",
    ),
    "Forbidden": json_body(
        ref("schemas", "Error"),
        "The caller may read the target but its roles do not allow this change.",
    ),
    "NotFound": json_body(
        ref("schemas", "Error"),
        "The target does not exist or the caller may not read it.",
    ),
    "Conflict": json_body(
        ref("schemas", "Error"),
        "The change conflicts with existing data; `validations` names the field.",
    ),
    "PreconditionFailed": json_body(
        ref("schemas", "Error"),
        "`If-Match` names a version that is no longer current.",
    ),
    "PayloadTooLarge": json_body(ref("schemas", "Error"), "The request body is too large."),
    "UnsupportedMediaType": json_body(
        ref("schemas", "Error"),
        "The request body is not JSON, or is sent without `Content-Type: application/json`.",
    ),
    "ServiceUnavailable": json_body(ref("schemas", "Error"), "The database is unreachable."),
}

PARAMETERS = {
    "User": {
        "name": "user",
        "in": "path",
        "required": True,
        "description": "`me` for the caller, a username (any case) or a user id.",
        "schema": {"type": "string"},
    },
    "SecretName": {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The secret's name, percent-encoded as one path segment.",
        "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX_LENGTH},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": (
            'The version the change applies to, as the ETag gives it (`"3"`), or `*` '
            "for any version. A stale version is 412; a malformed header is 400. Without "
            "the header, the last write wins."
        ),
        "schema": {"type": "string"},
    },
    "Organization": {
        "name": "org",
        "in": "path",
        "required": True,
        "description": "An organization name (any case) or id.",
        "schema": {"type": "string"},
    },
    "TokenId": {
        "name": "token_id",
        "in": "path",
        "required": True,
        "description": "The token's id: the part before the '-'.",
        "schema": {"type": "string"},
    },
}

HEADERS = {
    "ETag": {
        "description": "The secret's version as a strong entity tag, for `If-Match`.",
        "required": True,
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    },
    "Location": {
        "description": "The path of the created resource.",
        "required": True,
        "schema": {"type": "string"},
    },
}


def common_schemas() -> dict[str, Schema]:
    return {
        "Error": {
            "type": "object",
            "required": ["message", "detail", "validations"],
            "additionalProperties": False,
            "properties": {
                "message": {"type": "string", "description": "What failed, in one line."},
                "detail": {"type": "string", "description": "Why, and what to do next."},
                "validations": {
                    "type": "array",
                    "items": ref("schemas", "FieldError"),
                },
            },
        },
        "FieldError": {
            "type": "object",
            "required": ["field", "detail"],
            "additionalProperties": False,
            "properties": {
                "field": {"type": "string"},
                "detail": {"type": "string", "description": "The rule the field breaks."},
            },
        },
        "Timestamp": {"type": "string", "format": "date-time"},
    }


# Service


def service_paths() -> dict[str, Any]:
    return {
        "/healthz": {
            "get": operation(
                "getHealth",
                "service",
                "Check that the server runs and reaches its database",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["status"],
                            "additionalProperties": False,
                            "properties": {"status": {"const": "ok"}},
                        },
                        "The server and its database are up.",
                    ),
                    **errors("ServiceUnavailable"),
                },
                public=True,
            )
        },
        "/api/v2/openapi.json": {
            "get": operation(
                "getOpenAPIDocument",
                "service",
                "Get this OpenAPI document",
                {"200": json_body({"type": "object"}, "The OpenAPI 3.1 document.")},
                public=True,
            )
        },
    }


# Users and tokens


def user_schemas() -> dict[str, Schema]:
    username = {
        "type": "string",
        "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        "description": (
            "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; "
            "unique case-insensitively; not `me` and not shaped like a UUID."
        ),
    }
    token_fields: dict[str, Schema] = {
        "id": {"type": "string"},
        "scope": {"type": "string"},
        "created_at": ref("schemas", "Timestamp"),
        "expires_at": ref("schemas", "Timestamp"),
        "last_used_at": {
            "anyOf": [ref("schemas", "Timestamp"), {"type": "null"}],
            "description": "Refreshed at most once a minute.",
        },
    }
    return {
        "User": {
            "type": "object",
            "required": [
                "id",
                "username",
                "email",
                "status",
                "site_roles",
                "created_at",
                "updated_at",
            ],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "username": {"type": "string"},
                "email": {"type": "string"},
                "status": {"enum": list(USER_STATUSES)},
                "site_roles": {
                    "type": "array",
                    "items": {"enum": list(SITE_ROLES)},
                    "description": "Site roles besides `member`, which every active user has.",
                },
                "created_at": ref("schemas", "Timestamp"),
                "updated_at": ref("schemas", "Timestamp"),
            },
        },
        "UserCreate": {
            "type": "object",
            "required": ["username", "email"],
            "additionalProperties": False,
            "properties": {
                "username": username,
                "email": {"type": "string"},
                "status": {"enum": list(USER_STATUSES), "default": "active"},
            },
        },
        "UserUpdate": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {
                "email": {"type": "string"},
                "status": {"enum": list(USER_STATUSES)},
                "site_roles": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"enum": list(SITE_ROLES)},
                    "description": (
                        "The complete set of site roles. Changing it needs the "
                        "`assign_role` permission on the user."
                    ),
                },
            },
        },
        "Token": {
            "type": "object",
            "required": list(token_fields),
            "additionalProperties": False,
            "properties": token_fields,
        },
        "TokenCreated": {
            "type": "object",
            "required": ["token", *token_fields],
            "additionalProperties": False,
            "properties": {
                "token": {
                    "type": "string",
                    "description": "The token `<id>-<secret>`. It is returned only here.",
                },
                **token_fields,
            },
        },
        "TokenCreate": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "lifetime_days": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIFETIME.days,
                    "default": 30,
                }
            },
        },
    }


def user_paths() -> dict[str, Any]:
    user = ref("parameters", "User")
    return {
        "/api/v2/users": {
            "get": operation(
                "listUsers",
                "users",
                "List the users the caller may read, sorted by username",
                {
                    "200": json_body(
                        {"type": "array", "items": ref("schemas", "User")}, "The users."
                    ),
                    **errors("Unauthorized"),
                },
            ),
            "post": operation(
                "createUser",
                "users",
                "Create a user",
                {
                    "201": {
                        **json_body(ref("schemas", "User"), "The new user."),
                        "headers": {"Location": ref("headers", "Location")},
                    },
                    **errors(*BODY_ERRORS, "Forbidden", "Conflict"),
                },
                body="UserCreate",
                description="409 names `username` when another user has it in any case.",
            ),
        },
        "/api/v2/users/{user}": {
            "get": operation(
                "getUser",
                "users",
                "Get a user",
                {
                    "200": json_body(ref("schemas", "User"), "The user."),
                    **errors("Unauthorized", "NotFound"),
                },
                parameters=[user],
            ),
            "patch": operation(
                "updateUser",
                "users",
                "Change a user's email, status or site roles",
                {
                    "200": json_body(ref("schemas", "User"), "The changed user."),
                    **errors(*BODY_ERRORS, "Forbidden", "NotFound", "Conflict"),
                },
                parameters=[user],
                body="UserUpdate",
                description=(
                    "Fields left out keep their values. 409 when the change would leave "
                    "the site without an active owner."
                ),
            ),
            "delete": operation(
                "deleteUser",
                "users",
                "Delete a user with its secrets, tokens and memberships",
                {
                    "204": {"description": "Deleted."},
                    **errors("Unauthorized", "Forbidden", "NotFound", "Conflict"),
                },
                parameters=[user],
                description="409 when the user is the last active owner.",
            ),
        },
    }


def token_paths() -> dict[str, Any]:
    user = ref("parameters", "User")
    token_id = ref("parameters", "TokenId")
    return {
        "/api/v2/users/{user}/tokens": {
            "get": operation(
                "listTokens",
                "tokens",
                "List a user's API tokens (metadata only)",
                {
                    "200": json_body(
                        {"type": "array", "items": ref("schemas", "Token")}, "The tokens."
                    ),
                    **errors("Unauthorized", "Forbidden", "NotFound"),
                },
                parameters=[user],
            ),
            "post": operation(
                "createToken",
                "tokens",
                "Create an API token for the caller",
                {
                    "201": {
                        **json_body(
                            ref("schemas", "TokenCreated"),
                            "The token, shown only in this response, and its metadata.",
                        ),
                        "headers": {"Location": ref("headers", "Location")},
                    },
                    **errors(*BODY_ERRORS, "Forbidden", "NotFound"),
                },
                parameters=[user],
                body="TokenCreate",
                description="Only for the caller itself: nobody mints a token for another user.",
            ),
        },
        "/api/v2/users/{user}/tokens/{token_id}": {
            "get": operation(
                "getToken",
                "tokens",
                "Get an API token's metadata",
                {
                    "200": json_body(ref("schemas", "Token"), "The token's metadata."),
                    **errors("Unauthorized", "NotFound"),
                },
                parameters=[user, token_id],
            ),
            "delete": operation(
                "deleteToken",
                "tokens",
                "Revoke an API token",
                {
                    "204": {"description": "Revoked."},
                    **errors("Unauthorized", "Forbidden", "NotFound"),
                },
                parameters=[user, token_id],
            ),
        },
    }


# Organizations and members


def organization_schemas() -> dict[str, Schema]:
    name = {
        "type": "string",
        "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        "description": (
            "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; "
            "unique case-insensitively; not shaped like a UUID."
        ),
    }
    role = {"enum": list(ORG_MEMBER_ROLES)}
    return {
        "Organization": {
            "type": "object",
            "required": ["id", "name", "created_at", "updated_at"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "created_at": ref("schemas", "Timestamp"),
                "updated_at": ref("schemas", "Timestamp"),
            },
        },
        "OrganizationWrite": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {"name": name},
        },
        "Member": {
            "type": "object",
            "required": [
                "organization_id",
                "user_id",
                "username",
                "role",
                "created_at",
                "updated_at",
            ],
            "additionalProperties": False,
            "properties": {
                "organization_id": {"type": "string", "format": "uuid"},
                "user_id": {"type": "string", "format": "uuid"},
                "username": {"type": "string"},
                "role": role,
                "created_at": ref("schemas", "Timestamp"),
                "updated_at": ref("schemas", "Timestamp"),
            },
        },
        "MemberCreate": {
            "type": "object",
            "required": ["username"],
            "additionalProperties": False,
            "properties": {
                "username": {"type": "string"},
                "role": {**role, "default": "org-member"},
            },
        },
        "MemberUpdate": {
            "type": "object",
            "required": ["role"],
            "additionalProperties": False,
            "properties": {"role": role},
        },
    }


def organization_paths() -> dict[str, Any]:
    org = ref("parameters", "Organization")
    user = ref("parameters", "User")
    created = {"Location": ref("headers", "Location")}
    return {
        "/api/v2/organizations": {
            "get": operation(
                "listOrganizations",
                "organizations",
                "List the organizations the caller may read, sorted by name",
                {
                    "200": json_body(
                        {"type": "array", "items": ref("schemas", "Organization")},
                        "The organizations.",
                    ),
                    **errors("Unauthorized"),
                },
            ),
            "post": operation(
                "createOrganization",
                "organizations",
                "Create an organization",
                {
                    "201": {
                        **json_body(ref("schemas", "Organization"), "The new organization."),
                        "headers": created,
                    },
                    **errors(*BODY_ERRORS, "Forbidden", "Conflict"),
                },
                body="OrganizationWrite",
                description="409 names `name` when another organization has it in any case.",
            ),
        },
        "/api/v2/organizations/{org}": {
            "get": operation(
                "getOrganization",
                "organizations",
                "Get an organization",
                {
                    "200": json_body(ref("schemas", "Organization"), "The organization."),
                    **errors("Unauthorized", "NotFound"),
                },
                parameters=[org],
            ),
            "patch": operation(
                "renameOrganization",
                "organizations",
                "Rename an organization",
                {
                    "200": json_body(ref("schemas", "Organization"), "The renamed organization."),
                    **errors(*BODY_ERRORS, "Forbidden", "NotFound", "Conflict"),
                },
                parameters=[org],
                body="OrganizationWrite",
            ),
            "delete": operation(
                "deleteOrganization",
                "organizations",
                "Delete an organization and its memberships",
                {
                    "204": {"description": "Deleted."},
                    **errors("Unauthorized", "Forbidden", "NotFound"),
                },
                parameters=[org],
            ),
        },
        "/api/v2/organizations/{org}/members": {
            "get": operation(
                "listMembers",
                "organizations",
                "List an organization's members",
                {
                    "200": json_body(
                        {"type": "array", "items": ref("schemas", "Member")}, "The members."
                    ),
                    **errors("Unauthorized", "Forbidden", "NotFound"),
                },
                parameters=[org],
            ),
            "post": operation(
                "addMember",
                "organizations",
                "Add a user to an organization",
                {
                    "201": {
                        **json_body(ref("schemas", "Member"), "The new membership."),
                        "headers": created,
                    },
                    **errors(*BODY_ERRORS, "Forbidden", "NotFound", "Conflict"),
                },
                parameters=[org],
                body="MemberCreate",
                description=(
                    "Granting `org-admin` needs the `assign_role` permission. 400 names "
                    "`username` when no user has it; 409 when the user is already a member."
                ),
            ),
        },
        "/api/v2/organizations/{org}/members/{user}": {
            "get": operation(
                "getMember",
                "organizations",
                "Get a membership",
                {
                    "200": json_body(ref("schemas", "Member"), "The membership."),
                    **errors("Unauthorized", "NotFound"),
                },
                parameters=[org, user],
            ),
            "patch": operation(
                "setMemberRole",
                "organizations",
                "Change a member's organization role",
                {
                    "200": json_body(ref("schemas", "Member"), "The changed membership."),
                    **errors(*BODY_ERRORS, "Forbidden", "NotFound"),
                },
                parameters=[org, user],
                body="MemberUpdate",
                description="Needs the `assign_role` permission on the membership.",
            ),
            "delete": operation(
                "removeMember",
                "organizations",
                "Remove a member from an organization",
                {
                    "204": {"description": "Removed."},
                    **errors("Unauthorized", "Forbidden", "NotFound"),
                },
                parameters=[org, user],
            ),
        },
    }


# Secrets

EMPTY_VALUE_RULE = (
    "An empty value is rejected on create and on update alike: a secret always has a "
    "value, and a secret that is no longer needed is deleted instead."
)


def secret_fields() -> dict[str, Schema]:
    """Return the schemas of the writable secret fields, with the rules the server checks."""
    return {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": NAME_MAX_LENGTH,
            "description": (
                f"1-{NAME_MAX_LENGTH} characters, unique per user; no leading or trailing "
                "whitespace, no '/', '?', '#' or control characters, and not '.' or '..'."
            ),
        },
        "value": {
            "type": "string",
            "minLength": 1,
            "writeOnly": True,
            "description": (
                f"1 to {VALUE_MAX_BYTES} bytes in UTF-8, without NUL characters. "
                f"Write-only: never returned. {EMPTY_VALUE_RULE}"
            ),
        },
        "description": {
            "type": "string",
            "maxLength": DESCRIPTION_MAX_LENGTH,
            "description": f"At most {DESCRIPTION_MAX_LENGTH} characters; '' clears it.",
        },
        "env_name": {
            "type": "string",
            "maxLength": ENV_NAME_MAX_BYTES,
            "pattern": "^([A-Za-z_][A-Za-z0-9_]*)?$",
            "description": (
                "'' (not injected as a variable) or a POSIX variable name, unique per "
                "user. Names that shells or loaders read (PATH, HOME, LD_PRELOAD, ...) "
                f"and the prefixes {', '.join(RESERVED_ENV_NAME_PREFIXES)} are reserved, "
                "in any case."
            ),
        },
        "file_path": {
            "type": "string",
            "maxLength": FILE_PATH_MAX_BYTES,
            "description": (
                "'' (not injected as a file) or a path starting with '~/' or '/', unique "
                f"per user; at most {FILE_PATH_MAX_BYTES} bytes in UTF-8, no NUL, no '.' "
                "or '..' segment, no empty segment ('//'), no trailing '/'."
            ),
        },
    }


def secret_schemas() -> dict[str, Schema]:
    fields = secret_fields()
    return {
        "Secret": {
            "type": "object",
            "description": "A secret's metadata. No response contains the value.",
            "required": [
                "id",
                "name",
                "description",
                "env_name",
                "file_path",
                "created_at",
                "updated_at",
            ],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "env_name": {"type": "string"},
                "file_path": {"type": "string"},
                "version": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Increases with every change; the ETag carries it too.",
                },
                "created_at": ref("schemas", "Timestamp"),
                "updated_at": ref("schemas", "Timestamp"),
            },
        },
        "SecretCreate": {
            "type": "object",
            "required": ["name", "value"],
            "additionalProperties": False,
            "properties": fields,
        },
        "SecretUpdate": {
            "type": "object",
            "description": (
                "A partial update. A field left out keeps its value, and '' clears "
                f"description, env_name or file_path. {EMPTY_VALUE_RULE} The name cannot "
                "change."
            ),
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {key: schema for key, schema in fields.items() if key != "name"},
        },
    }


def secret_paths() -> dict[str, Any]:
    user = ref("parameters", "User")
    name = ref("parameters", "SecretName")
    if_match = ref("parameters", "IfMatch")
    secret_with_etag = {"ETag": ref("headers", "ETag")}
    return {
        "/api/v2/users/{user}/secrets": {
            "get": operation(
                "listSecrets",
                "secrets",
                "List a user's secrets, sorted by name (metadata only)",
                {
                    "200": json_body(
                        {"type": "array", "items": ref("schemas", "Secret")},
                        "The secrets' metadata.",
                    ),
                    **errors("Unauthorized", "Forbidden", "NotFound"),
                },
                parameters=[user],
                description=(
                    "Only the user may list its own secrets. 403 when the caller may "
                    "read the user but not its secrets; 404 when it may not read the user."
                ),
            ),
            "post": operation(
                "createSecret",
                "secrets",
                "Create a secret",
                {
                    "201": {
                        **json_body(ref("schemas", "Secret"), "The new secret's metadata."),
                        "headers": {**secret_with_etag, "Location": ref("headers", "Location")},
                    },
                    **errors(*BODY_ERRORS, "Forbidden", "NotFound", "Conflict"),
                },
                parameters=[user],
                body="SecretCreate",
                description=(
                    "409 names the field (`name`, `env_name` or `file_path`) that another "
                    "secret of the user already has. 403 and 404 as for the list."
                ),
            ),
        },
        "/api/v2/users/{user}/secrets/{name}": {
            "get": operation(
                "getSecret",
                "secrets",
                "Get a secret's metadata",
                {
                    "200": {
                        **json_body(ref("schemas", "Secret"), "The secret's metadata."),
                        "headers": secret_with_etag,
                    },
                    **errors("Unauthorized", "NotFound"),
                },
                parameters=[user, name],
                description="A secret of another user is 404, whatever the caller's roles.",
            ),
            "patch": operation(
                "updateSecret",
                "secrets",
                "Change a secret's value, description, env_name or file_path",
                {
                    "200": {
                        **json_body(ref("schemas", "Secret"), "The changed secret's metadata."),
                        "headers": secret_with_etag,
                    },
                    **errors(*BODY_ERRORS, "NotFound", "Conflict", "PreconditionFailed"),
                },
                parameters=[user, name, if_match],
                body="SecretUpdate",
                description=(
                    "Fields left out keep their values; '' clears description, env_name "
                    f"or file_path. {EMPTY_VALUE_RULE} A body without any field is 400, "
                    "and so is any other field, `name` included."
                ),
            ),
            "delete": operation(
                "deleteSecret",
                "secrets",
                "Delete a secret",
                {
                    "204": {"description": "Deleted."},
                    **errors("BadRequest", "Unauthorized", "NotFound", "PreconditionFailed"),
                },
                parameters=[user, name, if_match],
            ),
        },
    }


# Audit log


def audit_paths() -> dict[str, Any]:
    user_reference = "`me`, a username, or a user id (which still matches after deletion)"

    def query(name: str, description: str, schema: Schema) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": schema,
        }

    audit_log = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "time",
            "user_id",
            "username",
            "api_key_id",
            "ip",
            "user_agent",
            "request_id",
            "action",
            "resource_type",
            "resource_id",
            "resource_target",
            "resource_owner_id",
            "organization_id",
            "status_code",
            "diff",
            "additional_fields",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "time": {"type": "string", "format": "date-time"},
            "user_id": {"type": ["string", "null"], "description": "The acting user."},
            "username": {"type": ["string", "null"]},
            "api_key_id": {"type": ["string", "null"]},
            "ip": {"type": "string"},
            "user_agent": {"type": "string"},
            "request_id": {"type": "string"},
            "action": {"enum": list(AUDIT_ACTIONS)},
            "resource_type": {"enum": list(RESOURCE_TYPES)},
            "resource_id": {"type": "string"},
            "resource_target": {"type": "string", "description": "For a secret, its name."},
            "resource_owner_id": {"type": ["string", "null"]},
            "organization_id": {"type": ["string", "null"]},
            "status_code": {"type": "integer"},
            "diff": {
                "type": "object",
                "description": (
                    "Changed fields as {field: {old, new}}. A secret value shows only "
                    'that it changed: {"old": "", "new": "", "secret": true}.'
                ),
            },
            "additional_fields": {"type": "object"},
        },
    }
    page = {
        "type": "object",
        "additionalProperties": False,
        "required": ["audit_logs", "next_after"],
        "properties": {
            "audit_logs": {"type": "array", "items": audit_log},
            "next_after": {
                "type": ["string", "null"],
                "description": "Pass as `after` for the next page; null on the last page.",
            },
        },
    }
    return {
        "/api/v2/audit-logs": {
            "get": operation(
                "listAuditLogs",
                "audit",
                "List audit log entries, newest first, one page at a time",
                {
                    "200": json_body(page, "One page of entries."),
                    **errors("BadRequest", "Unauthorized", "Forbidden"),
                },
                parameters=[
                    query("actor", f"The acting user: {user_reference}.", {"type": "string"}),
                    query(
                        "resource_type",
                        "Only entries about this kind of resource.",
                        {"enum": list(RESOURCE_TYPES)},
                    ),
                    query("action", "Only entries of this action.", {"enum": list(AUDIT_ACTIONS)}),
                    query(
                        "target_user",
                        f"The owner of the changed resource: {user_reference}.",
                        {"type": "string"},
                    ),
                    query(
                        "since",
                        "RFC 3339 time, inclusive.",
                        {"type": "string", "format": "date-time"},
                    ),
                    query(
                        "until",
                        "RFC 3339 time, exclusive.",
                        {"type": "string", "format": "date-time"},
                    ),
                    query(
                        "limit",
                        "Entries per page.",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_LIMIT,
                            "default": DEFAULT_LIMIT,
                        },
                    ),
                    query("after", "The `next_after` of the previous page.", {"type": "string"}),
                ],
                description="Only owners and auditors may read the audit log; others get 403.",
            )
        },
    }
