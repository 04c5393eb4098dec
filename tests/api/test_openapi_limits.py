"""Everything a client may send has a documented bound: a string its maxLength, a list its
maxItems, a map its maxProperties, an integer its minimum and maximum. Endpoints added later are
walked too, so none can take an unbounded list again (8,000 identities in one contact held
SQLite's write lock for minutes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clientcontact.app import create_app
from tests.harness import settings_for_tests

# Strings whose format or enumeration bounds them already.
BOUNDED_FORMATS = {"date-time", "date", "time", "uuid"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return create_app(settings_for_tests(data_dir=tmp_path_factory.mktemp("spec"))).openapi()


def request_schemas(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, schema) for every parameter and request body of every operation."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield f"{where} {parameter['in']} {parameter['name']}", parameter["schema"]
            for media_type, content in operation.get("requestBody", {}).get("content",
                                                                              {}).items():
                yield f"{where} body ({media_type})", content["schema"]


def unbounded(spec: dict[str, Any], schema: dict[str, Any], where: str,
              seen: set[str]) -> Iterator[str]:
    """Every place under `schema` that a client could make as large as it likes."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from unbounded(spec, spec["components"]["schemas"][name], name, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from unbounded(spec, option, where, seen)
    kind = schema.get("type")
    if kind == "string" and not ({"enum", "const"} & schema.keys()
                                 or schema.get("format") in BOUNDED_FORMATS
                                 or "maxLength" in schema):
        yield f"{where}: string without maxLength"
    if kind == "integer" and not {"minimum", "maximum"} <= schema.keys():
        yield f"{where}: integer without minimum and maximum"
    if kind == "number" and not {"minimum", "maximum"} <= schema.keys():
        yield f"{where}: number without minimum and maximum"
    if kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: array without maxItems"
        yield from unbounded(spec, schema.get("items", {}), f"{where}[]", seen)
    if kind == "object":
        for name, field in schema.get("properties", {}).items():
            yield from unbounded(spec, field, f"{where}.{name}", seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                yield f"{where}: map without maxProperties"
            yield from unbounded(spec, extra, f"{where}{{}}", seen)
            yield from unbounded(spec, schema.get("propertyNames", {"type": "string"}),
                                 f"{where} keys", seen)


def test_every_value_a_client_sends_has_a_documented_bound(spec: dict[str, Any]) -> None:
    problems = [problem for where, schema in request_schemas(spec)
                for problem in unbounded(spec, schema, where, set())]
    assert problems == []


def test_the_walk_finds_an_unbounded_list(spec: dict[str, Any]) -> None:
    """The guard above cannot pass by walking nothing."""
    schema = {"type": "object", "properties": {"ids": {"type": "array",
                                                       "items": {"type": "integer"}}}}
    assert list(unbounded(spec, schema, "Body", set())) == [
        "Body.ids: array without maxItems", "Body.ids[]: integer without minimum and maximum"]
    assert sum(1 for _ in request_schemas(spec)) > 40

