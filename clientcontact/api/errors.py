"""Errors mapped to HTTP once: typed domain errors keep their status, validation gives field
messages, anything unexpected is a logged 500 with a request id and never a stack trace."""

from __future__ import annotations

import itertools
import logging
import secrets
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clientcontact.errors import ClientContactError, PayloadTooLarge, TooManyAttempts
from clientcontact.inputs import unstorable_character

log = logging.getLogger("clientcontact.errors")
REQUEST_ID_HEADER = "X-Request-ID"
# Request ids: a random prefix per process and a counter, unique without a system call each.
_PROCESS_PREFIX = secrets.token_hex(8)
_request_numbers = itertools.count(1)


def new_request_id() -> str:
    return f"{_PROCESS_PREFIX}{next(_request_numbers):016x}"


def request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "-")


def _body(code: str, message: str, request: Request, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id(request)}
    if details is not None:
        error["details"] = details
    return {"error": error}


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClientContactError)
    return JSONResponse(_body(exc.code, exc.message, request, exc.details),
                        status_code=exc.status_code, headers=error_headers(exc))


def error_headers(exc: ClientContactError) -> dict[str, str] | None:
    """What an error tells a client besides its body: when it may try again."""
    if isinstance(exc, TooManyAttempts):
        return {"Retry-After": str(exc.retry_after)}
    return None


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return JSONResponse(_body("bad_payload", "the request body is not valid JSON", request),
                            status_code=400)
    fields = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
              for e in exc.errors()]
    first = fields[0] if fields else {"field": "", "message": "invalid request"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return JSONResponse(_body("validation_error", message, request, fields), status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return JSONResponse(_body("http_error", str(exc.detail), request),
                        status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> str | None:
    """Every method the OpenAPI document has for this path: Starlette's 405 names only those
    of the first route that matches it, while each method of a path is a route of its own. A
    path written out (/contacts/find) is that resource, not one of a template's (/contacts/{id})."""
    path = request.url.path
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    matching = [template for template in paths if compile_path(template)[0].fullmatch(path)]
    chosen = [path] if path in paths else matching
    return ", ".join(sorted({method.upper() for template in chosen
                             for method in paths[template]})) or None


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s [request %s]", request.method, request.url.path,
              request_id(request), exc_info=exc)
    return JSONResponse(_body("internal_error", "something went wrong on our side; "
                              "quote the request id when reporting it", request),
                        status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClientContactError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)


class RequestContext:
    """Gives every request an id (echoed in the response), refuses oversized bodies with 413
    before they are read into memory, and a NUL character in the path or query string (no
    database stores one) with 422 before any route reads it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or new_request_id()
        scope.setdefault("state", {})["request_id"] = rid

        exceeded = False
        replaced = False

        async def send_with_id(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the app's own answer to the cut-off body is dropped
            if exceeded and message["type"] == "http.response.start":
                # Whatever the app made of a body we cut off (frameworks call it a parse
                # error), the truth is that it was too large.
                replaced = True
                await self._too_large(rid, send)
                return
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append(
                    (REQUEST_ID_HEADER.lower().encode(), rid.encode()))
            await send(message)

        problem = unstorable_character(scope.get("path", "")) or unstorable_character(
            unquote_to_bytes(scope.get("query_string", b"")).decode("utf-8", "replace"))
        if problem is not None:
            await self._refuse(rid, send, 422, "validation_error",
                               f"the address must not contain {problem}")
            return

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(rid, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    exceeded = True
                    raise PayloadTooLarge(self._limit_text())
            return message

        await self.app(scope, limited_receive, send_with_id)

    def _limit_text(self) -> str:
        return f"request body is larger than the limit of {self.max_body_bytes} bytes"

    async def _too_large(self, rid: str, send: Send) -> None:
        await self._refuse(rid, send, 413, "payload_too_large", self._limit_text())

    @staticmethod
    async def _refuse(rid: str, send: Send, status: int, code: str, message: str) -> None:
        body = JSONResponse({"error": {"code": code, "message": message, "request_id": rid}},
                            status_code=status)
        await send({"type": "http.response.start", "status": status,
                    "headers": [*body.raw_headers, (b"x-request-id", rid.encode())]})
        await send({"type": "http.response.body", "body": body.body})
