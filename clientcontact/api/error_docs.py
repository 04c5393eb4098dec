"""The error answers each operation documents, with the one body every error has.

What follows from an operation's shape is added here for all routes at once: a login for 401
and 403, an admin for 403, an id in the path for 404, any input for 400 and 422, a body for 413.
What only the domain knows (a 409 on a taken name, a 404 for an id in a body) a route declares
with `responses=error_responses(...)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from clientcontact.api.deps import get_actor, get_admin


class FieldProblem(BaseModel):
    field: str = Field(description="where the value was: body.name, query.limit, path.id …")
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, for programs: not_found, conflict, "
                                  "validation_error …")
    message: str = Field(description="for people")
    request_id: str = Field(description="quote it when reporting a problem")
    details: list[FieldProblem] | dict[str, Any] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


SCHEMAS = "#/components/schemas/"
ERROR_REF = f"{SCHEMAS}ErrorBody"
WHY = {
    400: "The request could not be read (e.g. invalid JSON) or asks for something impossible",
    401: "No valid login cookie or API token",
    403: "Not allowed for this agent",
    404: "No such item in this account",
    409: "Conflicts with what exists (a name or address taken, a state that forbids it)",
    413: "The request body is larger than the server accepts",
    422: "A value is invalid; details name each field",
    429: "Too many attempts; try again later",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the errors a route adds to those its shape implies."""
    return {code: {"model": ErrorBody, "description": WHY.get(code, HTTPStatus(code).phrase)}
            for code in codes}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def implied_codes(route: APIRoute) -> set[int]:
    dependant = route.dependant
    calls = set(_calls(dependant))
    codes = {422}  # a NUL in the path or query string is refused before any route runs
    if get_actor in calls:
        codes |= {401, 403}  # 403: an agent who must first choose a new password
    if get_admin in calls:
        codes.add(403)
    if dependant.path_params:
        codes.add(404)
    if dependant.path_params or dependant.query_params or route.body_field is not None:
        codes.add(400)
    if route.body_field is not None:
        codes.add(413)
    return codes


def document_errors(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Give every operation in `routers` its error answers in the OpenAPI document, through
    FastAPI's documented way to extend it (wrapping `app.openapi`)."""
    routes = [route for router in routers for route in router.routes
              if isinstance(route, APIRoute) and route.include_in_schema]
    generate = app.openapi
    extended: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        spec = generate()  # cached by FastAPI until its routes change
        if not extended or extended[-1] is not spec:
            _add_errors(spec, routes)
            extended[:] = [spec]
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _add_errors(spec: dict[str, Any], routes: list[APIRoute]) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template=f"{SCHEMAS}{{model}}")
    schemas.update(body.pop("$defs", {}))
    schemas["ErrorBody"] = body
    for route in routes:
        for method in route.methods:
            responses = spec["paths"][route.path_format][method.lower()]["responses"]
            for code in implied_codes(route):
                # FastAPI's own 422 shows its default body, which our handler never sends.
                if str(code) not in responses or code == 422:
                    responses[str(code)] = {
                        "description": WHY[code],
                        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}
            ordered = dict(sorted(responses.items()))
            responses.clear()
            responses.update(ordered)
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's, now unused
        if f'"{SCHEMAS}{name}"' not in json.dumps(spec):
            schemas.pop(name, None)
