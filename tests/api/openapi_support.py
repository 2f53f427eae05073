"""Helpers that read the OpenAPI document: operations, references and response checks.

Response bodies are validated with jsonschema's Draft 2020-12 validator, the dialect the
document declares, with the whole document registered so `$ref`s resolve inside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Flask adds HEAD and OPTIONS to every rule; the document describes neither.
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
DOCUMENT_URI = "urn:usersecrets:openapi"
_FLASK_VARIABLE_RE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def route_template(rule: str) -> str:
    """Turn a werkzeug rule such as `/users/<string:user>` into `/users/{user}`."""
    return _FLASK_VARIABLE_RE.sub(r"{\1}", rule)


def app_operations(app: Flask) -> set[tuple[str, str]]:
    """Return (path template, lowercase method) for every route except static files."""
    operations: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in (rule.methods or set()) - IMPLICIT_METHODS:
            operations.add((route_template(rule.rule), method.lower()))
    return operations


def iter_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (path template, method, operation object) for every documented operation."""
    for template, path_item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in path_item:
                yield template, method, path_item[method]


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(template, method) for template, method, _ in iter_operations(document)}


def json_pointer(*parts: str) -> str:
    """Build an RFC 6901 pointer from raw member names."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def resolve_pointer(document: dict[str, Any], pointer: str) -> Any:
    """Return the value at a `#/...` reference or pointer; raise KeyError when absent."""
    node: Any = document
    for raw in pointer.removeprefix("#").split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow `$ref` until the node is not a reference object."""
    while isinstance(node, dict) and "$ref" in node:
        node = resolve_pointer(document, node["$ref"])
    return node


def iter_refs(node: Any) -> Iterator[str]:
    """Yield every `$ref` string anywhere in `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_refs(item)


class ResponseChecker:
    """Check real responses against the documented status codes, headers and schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)

    def problems(self, template: str, method: str, response: TestResponse) -> list[str]:
        """Return what in `response` disagrees with the document; empty when it matches."""
        operation = self.document["paths"][template][method]
        status = str(response.status_code)
        if status not in operation["responses"]:
            return [f"status {status} is not documented"]
        described = resolve(self.document, operation["responses"][status])

        found: list[str] = []
        for name, header in described.get("headers", {}).items():
            header = resolve(self.document, header)
            value = response.headers.get(name)
            if value is None:
                if header.get("required"):
                    found.append(f"required header {name} is missing")
                continue
            found.extend(
                f"header {name}: {error.message}"
                for error in self._validator(header["schema"]).iter_errors(value)
            )

        content = described.get("content")
        if content is None:
            if response.get_data():
                found.append("a body was sent where none is documented")
            return found
        if response.mimetype != "application/json":
            return [*found, f"content type {response.mimetype} is not documented"]
        pointer = json_pointer(
            "paths", template, method, "responses", status, "content", "application/json"
        )
        if "$ref" in operation["responses"][status]:
            pointer = operation["responses"][status]["$ref"].removeprefix("#") + json_pointer(
                "content", "application/json"
            )
        validator = self._validator({"$ref": f"{DOCUMENT_URI}#{quote(pointer, safe='/~')}/schema"})
        found.extend(
            f"body at {list(error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(response.get_json())
        )
        return found

    def _validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator(
            schema,
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
