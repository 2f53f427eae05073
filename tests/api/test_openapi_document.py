"""The OpenAPI document: complete for the app's routes, and well-formed OpenAPI 3.1.

No OpenAPI validator package is installed, so these tests check the structure the
OpenAPI 3.1 specification requires of the parts the document uses, and validate every
schema against the JSON Schema 2020-12 meta-schema with jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

import app.secrets.validation
from app.api.openapi import EMPTY_VALUE_RULE, openapi_document
from app.config import Settings
from app.factory import create_app
from tests.api.openapi_support import (
    app_operations,
    documented_operations,
    iter_operations,
    iter_refs,
    resolve,
    resolve_pointer,
)
from tests.support import databases

PUBLIC_OPERATIONS = {("/healthz", "get"), ("/api/v2/openapi.json", "get")}
_TEMPLATE_VARIABLE_RE = re.compile(r"{([^{}]+)}")


@pytest.fixture(scope="module")
def routes_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app whose routes are inspected; no test here sends it a request."""
    data_dir = tmp_path_factory.mktemp("openapi")
    settings = Settings(data_dir=data_dir, database_url=databases.sqlite_url(data_dir / "x.db"))
    app = create_app(settings)
    yield app
    app.extensions["usersecrets.engine"].dispose()


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def test_openapi_describes_every_route(routes_app: Flask, document: dict[str, Any]) -> None:
    undocumented = app_operations(routes_app) - documented_operations(document)

    assert sorted(undocumented) == []


def test_openapi_describes_only_routes(routes_app: Flask, document: dict[str, Any]) -> None:
    unrouted = documented_operations(document) - app_operations(routes_app)

    assert sorted(unrouted) == []


def test_openapi_declares_version_and_dialect(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["info"]["title"]
    assert document["info"]["version"]


def test_openapi_operation_ids_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in iter_operations(document)]

    assert len(ids) == len(set(ids))


def test_openapi_references_resolve(document: dict[str, Any]) -> None:
    unresolved = []
    for reference in set(iter_refs(document)):
        try:
            resolve_pointer(document, reference)
        except (KeyError, IndexError):
            unresolved.append(reference)

    assert unresolved == []


def test_openapi_components_all_used(document: dict[str, Any]) -> None:
    references = set(iter_refs(document))
    defined = {
        f"#/components/{kind}/{name}"
        for kind, entries in document["components"].items()
        if kind != "securitySchemes"
        for name in entries
    }

    assert sorted(defined - references) == []


def test_openapi_schemas_valid_2020_12(document: dict[str, Any]) -> None:
    schemas = list(document["components"]["schemas"].values())
    for _, _, operation in iter_operations(document):
        for parameter in operation.get("parameters", []):
            schemas.append(resolve(document, parameter)["schema"])
        for response in operation["responses"].values():
            for media in resolve(document, response).get("content", {}).values():
                schemas.append(media["schema"])
    schemas.extend(
        parameter["schema"] for parameter in document["components"]["parameters"].values()
    )
    schemas.extend(header["schema"] for header in document["components"]["headers"].values())

    for schema in schemas:
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize(
    ("template", "method"),
    sorted(documented_operations(openapi_document())),
    ids=lambda value: str(value),
)
def test_openapi_operation_is_complete(
    document: dict[str, Any], template: str, method: str
) -> None:
    operation = document["paths"][template][method]
    parameters = [resolve(document, parameter) for parameter in operation.get("parameters", [])]
    path_names = {p["name"] for p in parameters if p["in"] == "path"}

    assert operation["summary"]
    assert operation["tags"]
    assert path_names == set(_TEMPLATE_VARIABLE_RE.findall(template))
    assert all(p["required"] for p in parameters if p["in"] == "path")
    assert all(p["in"] in {"path", "query", "header", "cookie"} for p in parameters)
    assert operation["responses"]
    assert all(re.fullmatch(r"[1-5][0-9]{2}", status) for status in operation["responses"])
    assert all(resolve(document, r)["description"] for r in operation["responses"].values())
    if "requestBody" in operation:
        assert set(operation["requestBody"]["content"]) == {"application/json"}


def test_openapi_security_schemes_defined(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    requirements = list(document["security"])
    for _, _, operation in iter_operations(document):
        requirements.extend(operation.get("security", []))

    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert {name for requirement in requirements for name in requirement} <= set(schemes)


def test_openapi_public_operations_exact(document: dict[str, Any]) -> None:
    public = {
        (template, method)
        for template, method, operation in iter_operations(document)
        if operation.get("security") == []
    }

    assert public == PUBLIC_OPERATIONS


def test_openapi_states_empty_value_rule(document: dict[str, Any]) -> None:
    rule_in_validation_docs = " ".join((app.secrets.validation.__doc__ or "").split())
    update = document["components"]["schemas"]["SecretUpdate"]

    assert EMPTY_VALUE_RULE in rule_in_validation_docs
    assert EMPTY_VALUE_RULE in update["properties"]["value"]["description"]
    assert EMPTY_VALUE_RULE in update["description"]


def test_openapi_secret_has_no_value(document: dict[str, Any]) -> None:
    secret = document["components"]["schemas"]["Secret"]

    assert "value" not in secret["properties"]
    assert secret["additionalProperties"] is False


def test_openapi_served_without_token(client: FlaskClient) -> None:
    response = client.get("/api/v2/openapi.json")

    assert response.status_code == 200
    assert response.get_json() == openapi_document()


def test_openapi_security_matches_server(client: FlaskClient, document: dict[str, Any]) -> None:
    """Send each operation without a token: secured ones are 401, public ones are not."""
    mismatches = []
    for template, method, operation in iter_operations(document):
        url = _TEMPLATE_VARIABLE_RE.sub("x", template)
        response = client.open(url, method=method.upper(), json={})
        public = operation.get("security") == []
        if public == (response.status_code == 401):
            mismatches.append((template, method, response.status_code))

    assert mismatches == []
