"""An open-loop load generator: pre-signed requests sent at a fixed rate, whatever the answers
do, each one's latency measured from the moment it was *meant* to be sent. Run by
bench/inbound.py in a process of its own; it writes its measurements as JSON to --out.

A closed-loop tool (wrk, 32 connections) sends the next request only when an answer comes
back, so a server that stalls for 200 ms is sent nothing during the stall and most of the
requests that would have waited never exist: latency is understated (coordinated omission).
Here a request whose time has come goes out on an idle connection, a new one if every
connection is busy; while all MAX_CONNECTIONS are busy it waits in line, and the wait counts.

Hand-written because no constant-rate generator with that correction is packaged for Debian or
PyPI here (wrk2 and vegeta are not in Debian; wrk's Lua cannot send ahead of its answers).
It stays cheap: uvloop, raw sockets, httptools to read answers; the printed `cpu_share` (its
own CPU time over the run's wall time) and `late_ms` (how late sends went out) show whether
it kept up.

Optionally it listens on the app's /events stream (Server-Sent Events) with an agent's login
cookie and notes when each `message.created` arrives, on the same clock, so the bench can
measure webhook → message on an agent's screen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import time
from pathlib import Path
from urllib.parse import urlsplit

import httptools
import uvloop

MAX_CONNECTIONS = 256
MESSAGE_CREATED = re.compile(rb"event: message\.created\ndata: (\{[^\n]*\})\n\n")


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time on it."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.current: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        index, self.current = self.current, None
        assert index is not None
        self.generator.answered(self, index, self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.generator.lost(self)

    def send(self, index: int, request: bytes) -> None:
        self.current = index
        assert self.transport is not None
        self.transport.write(request)


class Generator:
    def __init__(self, host: str, port: int, requests: list[bytes]) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port = host, port
        self.requests = requests
        self.intended: list[float] = [0.0] * len(requests)
        self.latency: list[float | None] = [None] * len(requests)
        self.statuses: dict[int, int] = {}
        self.idle: list[Connection] = []
        self.connections = 0
        self.waiting: list[int] = []  # due, but every connection was busy
        self.late: list[float] = []
        self.errors = 0
        self.done = asyncio.Event()
        self.remaining = len(requests)

    async def run(self, rate: float) -> None:
        start = self.loop.time() + 0.1
        for index in range(len(self.requests)):
            due = start + index / rate
            self.intended[index] = due
            wait = due - self.loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self.late.append(max(0.0, self.loop.time() - due))
            self.waiting.append(index)
            await self.dispatch()
        await self.done.wait()

    async def dispatch(self) -> None:
        while self.waiting:
            if self.idle:
                connection = self.idle.pop()
            elif self.connections < MAX_CONNECTIONS:
                self.connections += 1
                _, connection = await self.loop.create_connection(
                    lambda: Connection(self), self.host, self.port)
            else:
                return  # sent when a connection comes back
            if not self.waiting:  # another dispatch sent it while this one connected
                self.idle.append(connection)
                return
            index = self.waiting.pop(0)
            connection.send(index, self.requests[index])

    def answered(self, connection: Connection, index: int, status: int) -> None:
        self.latency[index] = self.loop.time() - self.intended[index]
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.idle.append(connection)
        self._one_less()
        if self.waiting:
            self.loop.create_task(self.dispatch())

    def lost(self, connection: Connection) -> None:
        self.connections -= 1
        if connection in self.idle:
            self.idle.remove(connection)
        if connection.current is not None:
            self.errors += 1
            self._one_less()

    def _one_less(self) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            self.done.set()


async def listen(host: str, port: int, cookie: str, arrivals: dict[int, float],
                 ready: asyncio.Event) -> None:
    """An agent's /events stream: when each message.created arrived, by message id."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    buffer = b""
    loop = asyncio.get_running_loop()
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return
        now = loop.time()
        buffer += chunk
        if b"event: ready" in buffer:
            ready.set()
        for match in MESSAGE_CREATED.finditer(buffer):
            arrivals.setdefault(int(json.loads(match.group(1))["message_id"]), now)
        buffer = buffer[buffer.rfind(b"\n\n") + 2:] if b"\n\n" in buffer else buffer


def requests_from(path: Path, url: str) -> list[bytes]:
    """The lines bench/inbound.py writes ("<signature> <body>") as raw HTTP requests."""
    parts = urlsplit(url)
    out = []
    for line in path.read_text().splitlines():
        signature, body = line.split(" ", 1)
        data = body.encode()
        out.append(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            + data)
    return out


async def main(args: argparse.Namespace) -> dict[str, object]:
    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = requests_from(Path(args.requests), args.url)
    loop = asyncio.get_running_loop()
    arrivals: dict[int, float] = {}
    listener = None
    if args.cookie:
        ready = asyncio.Event()
        listener = loop.create_task(listen(host, port, args.cookie, arrivals, ready))
        await asyncio.wait_for(ready.wait(), 10)
    generator = Generator(host, port, requests)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = loop.time()
    await asyncio.wait_for(generator.run(args.rate), len(requests) / args.rate + 120)
    wall = loop.time() - began
    if listener is not None:
        await asyncio.sleep(args.linger)  # the last messages' handling and push
        listener.cancel()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    # loop.time() is monotonic; the epoch offset lets the bench compare with database times.
    epoch = time.time() - loop.time()
    return {
        "latency": generator.latency,
        "intended": [at + epoch for at in generator.intended],
        "arrivals": {str(key): at + epoch for key, at in arrivals.items()},
        "statuses": generator.statuses,
        "errors": generator.errors,
        "connections": generator.connections,
        "wall": wall,
        "cpu_share": cpu / wall,
        "late_ms_p99": sorted(generator.late)[int(0.99 * (len(generator.late) - 1))] * 1000,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("requests", help="file of '<signature> <body>' lines")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--cookie", help="an agent's Cookie header: listen on /events too")
    parser.add_argument("--linger", type=float, default=3.0,
                        help="seconds to keep listening after the last answer")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    arguments = parser.parse_args()
    Path(arguments.out).write_text(json.dumps(uvloop.run(main(arguments))))
