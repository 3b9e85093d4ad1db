"""A loopback HTTP server that misbehaves on purpose, on raw sockets (no HTTP library to smooth anything over).

Each request is served by what `behave(method, path)` returns:
- "ok": 200 with an empty page (`{"items": [], "next_cursor": null}`);
- "hang": reads the request and never answers (until the server stops);
- "reset": closes the connection with a TCP reset;
- "garbage": answers bytes that are not HTTP;
- "trickle": a 200 whose body arrives one byte every 0.3 seconds.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

PAGE = b'{"items": [], "next_cursor": null}'


class MisbehavingServer:
    def __init__(self, behave: Callable[[str, str], str]) -> None:
        self.behave = behave
        self.requests: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def __enter__(self) -> MisbehavingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        buffer = b""
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        if self._stop.is_set():
                            return
                        continue
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                length = next((int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:")), 0)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                path = target.split("?", 1)[0]
                self.requests.append((method, path))
                if not self._answer(conn, self.behave(method, path)):
                    return
        except OSError:
            return
        finally:
            conn.close()

    def _answer(self, conn: socket.socket, how: str) -> bool:
        """Answer one request; False when the connection is done."""
        if how == "ok":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE))
            return True
        if how == "hang":
            self._stop.wait()
            return False
        if how == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if how == "garbage":
            conn.sendall(b"\x00\x17 hello from a server that speaks no HTTP \xff\r\n\r\n")
            return False
        if how == "trickle":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n")
            for _ in range(400):
                if self._stop.wait(0.3):
                    return False
                conn.sendall(b" ")
            return False
        raise ValueError(how)


def every(how: str) -> Callable[[str, str], str]:
    return lambda method, path: how


def paths(default: str, **by_last_segment: str) -> Callable[[str, str], str]:
    """`default` for every request, except paths whose last segment is a keyword (e.g. hang="hang")."""
    return lambda method, path: by_last_segment.get(path.rstrip("/").rsplit("/", 1)[-1], default)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
