"""A small HTTP server on loopback that records what it receives and can be scripted.

Provider fakes subclass it and answer like the provider by default; a test queues the next
answers (`fake.queue(503)`, a 429 with Retry-After, a reply slower than the client's timeout)
to tell a story about failure. Requests are recorded whatever the answer was.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering

    @classmethod
    def of_json(cls, status: int, payload: Any, **headers: str) -> Reply:
        return cls(status, json.dumps(payload).encode(),
                   {"Content-Type": "application/json", **headers})


class ScriptedServer:
    """Serves on 127.0.0.1 and a free port, one thread per request, until `stop()`."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.replies: list[Reply] = []  # what each request was answered, in the same order
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def queue(self, status: int, payload: Any = None, *, delay: float = 0.0,
              **headers: str) -> None:
        """The next request gets this answer instead of the provider's default one."""
        reply = (Reply.of_json(status, payload, **headers) if payload is not None
                 else Reply(status, b"", dict(headers)))
        self._script.append(Reply(reply.status, reply.body, reply.headers, delay))

    def answer(self, request: ReceivedRequest) -> Reply:
        """The provider's own behaviour; subclasses route by method and path."""
        return Reply.of_json(404, {"message": f"no route for {request.method} {request.path}"})

    def _receive(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        reply = scripted or self.answer(request)
        with self._lock:
            self.requests.append(request)
            self.replies.append(reply)
        return reply


def _handler_for(fake: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle on, the body would wait for the
        # client's delayed ACK of the headers, 40 ms on every answer that a provider never adds.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = ReceivedRequest(
                method=self.command,
                path=urlsplit(self.path).path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length),
            )
            reply = fake._receive(request)
            time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that was the point of the delay

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
