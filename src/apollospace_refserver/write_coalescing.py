"""One socket write per response instead of two.

uvicorn writes a response's head when the application starts it and the body
when it sends it: two `send` syscalls and, with TCP_NODELAY, two segments for
a small JSON answer (13% of a create's CPU under wrk, bench/README.md). This
transport wrapper gathers what is written during one step of the event loop
and hands it to the real transport at the end of that step, so head and body
(and the answers to pipelined requests) leave together. Nothing waits longer
than the current step; closing or aborting sends what is gathered first.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport:
    """Delegates to `transport`, gathering `write`s until the loop's current step ends."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:  # is_closing, abort, pause_reading, get_extra_info, ...
        return getattr(self._transport, name)
