"""A TCP proxy on loopback that a test can cut and restore: a database outage, for real.

Cutting closes the listening port and aborts every open connection, as a crashed database
host or a dropped link would: clients see their connections reset and new ones refused.
Restoring listens on the same port again. Written by hand because what we need (abort every
connection at once, listen again on the same port) is a few lines of asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port` from a thread of its own."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.WriteTransport] = set()

    def start(self) -> TcpProxy:
        self._thread.start()
        self.restore()
        return self

    def cut(self) -> None:
        """Stop listening and reset every connection."""
        self._call(self._cut())

    def restore(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen())

    def stop(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._open):
            transport.abort()
        self._open.clear()

    async def _pipe(self, client_reader: asyncio.StreamReader,
                    client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        writers = (client_writer, server_writer)
        self._open.update(w.transport for w in writers)
        await asyncio.gather(_copy(client_reader, server_writer),
                             _copy(server_reader, client_writer))
        for writer in writers:
            self._open.discard(writer.transport)
            writer.transport.abort()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.transport.abort()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
