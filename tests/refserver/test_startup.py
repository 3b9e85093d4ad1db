"""Start-up and files: the credentials file appears only once the server answers, and secrets are 0600.

Also: only id tokens are accepted (`token_use`), and `--help` says what the
server does with `--allow-private-webhooks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apollospace_refserver import create_app
from apollospace_refserver.cli import main, write_private_atomically
from apollospace_refserver.edge import AnnouncingServer, edge_config
from tests.refserver.conftest import FAST, ORGANIZATIONS, LiveServer
from tests.refserver.helpers import error_code

ACME = ORGANIZATIONS[0].id
STARTS = 20
SLOW_START_SECONDS = 0.2
CLI_START_SECONDS = 120  # a cold interpreter, the spec bundle and an RSA key on a loaded 2-core machine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _poll(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.002)


def test_credentials_appear_only_once_the_socket_answers_20_starts_in_a_row(tmp_path: Path) -> None:
    """Twenty starts, each with a slow start-up: whoever connects the moment the credentials file exists is answered 200, never refused."""
    app = create_app(FAST)
    for attempt in range(STARTS):
        target = tmp_path / f"credentials-{attempt}.json"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))  # bound, not yet listening: exactly the CLI's state before uvicorn runs
        port = sock.getsockname()[1]
        token = app.state.services.tokens.mint(_owner_id())
        announce = lambda target=target, port=port: write_private_atomically(target, json.dumps({"url": f"http://127.0.0.1:{port}/v1"}))  # noqa: E731
        server = AnnouncingServer(edge_config(SlowStart(app), log_level="warning", access_log=False, lifespan="on"), announce)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            _poll(target, 30)
            url = json.loads(target.read_text())["url"]
            response = httpx.get(f"{url}/leads", headers={"Authorization": f"Bearer {token}", "X-Organization-Id": ACME}, timeout=10)
            assert response.status_code == 200, (attempt, response.text)
            assert _mode(target) == 0o600
        finally:
            server.should_exit = True
            thread.join(timeout=10)


class SlowStart:
    """The app behind a lifespan start-up that takes a while (seeding, workers, a loaded machine):
    a file announced before the socket listens is then caught every time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await asyncio.sleep(SLOW_START_SECONDS)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def _owner_id() -> str:
    from apollospace_refserver.seed import user_by_key

    return user_by_key(ORGANIZATIONS[0].members[0][0]).id


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The real CLI on a file database: its data folder and its credentials file, connected to the moment it appeared."""
    data = tmp_path_factory.mktemp("data")
    credentials = data / "out" / "credentials.json"
    credentials.parent.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "apollospace_refserver", "--data-dir", str(data), "serve", "--port", "0", "--credentials-file", str(credentials)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _poll(credentials, CLI_START_SECONDS)
        yield data, credentials
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_cli_answers_at_once_when_its_credentials_file_appears(cli_server: tuple[Path, Path]) -> None:
    """The CLI's credentials file is whole when it appears, and its first connection is answered 200."""
    _, credentials = cli_server
    creds = json.loads(credentials.read_text())
    response = httpx.get(
        f"{creds['url']}/leads",
        headers={"Authorization": f"Bearer {creds['tenant_a']['token']}", "X-Organization-Id": creds["tenant_a"]["organization_id"]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert not [p.name for p in credentials.parent.iterdir() if p.name != credentials.name], "a temporary file was left behind"


def test_credentials_database_and_key_are_0600(cli_server: tuple[Path, Path]) -> None:
    """The credentials file, the SQLite database with its -wal and -shm files, and the signing key are readable by the owner only."""
    data, credentials = cli_server
    database = data / "apollospace.sqlite3"
    files = [credentials, database, data / "apollospace.sqlite3-wal", data / "apollospace.sqlite3-shm", data / "jwt-signing-key.pem"]
    assert {str(f.name): oct(_mode(f)) for f in files} == {str(f.name): oct(0o600) for f in files}


def test_a_database_left_0644_is_tightened(tmp_path: Path) -> None:
    """A database file an older server left world-readable is 0600 once the server opens it."""
    from apollospace_refserver.db import Database

    path = tmp_path / "old.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)
    Database(str(path)).close()
    assert _mode(path) == 0o600


def test_credentials_are_replaced_whole_and_0600(tmp_path: Path) -> None:
    """The credentials writer replaces an existing file atomically, 0600 even where the old file was 0644, leaving no temporary file."""
    target = tmp_path / "credentials.json"
    target.write_text("old")
    target.chmod(0o644)
    write_private_atomically(target, '{"url": "x"}')
    assert target.read_text() == '{"url": "x"}' and _mode(target) == 0o600
    assert os.listdir(tmp_path) == ["credentials.json"]


def test_an_access_token_is_refused_401(live: LiveServer) -> None:
    """Only the id token is a bearer token: a token with `token_use: access` (same key, issuer, audience) is 401 unauthenticated."""
    user_id = _owner_id()
    for token_use in ("access", "refresh", ""):
        token = live.services.tokens.mint(user_id, token_use=token_use)
        response = httpx.get(f"{live.base_url}/leads", headers={"Authorization": f"Bearer {token}", "X-Organization-Id": ACME}, timeout=10)
        assert error_code(response, 401) == "unauthenticated", token_use
    good = httpx.get(f"{live.base_url}/leads", headers={"Authorization": f"Bearer {live.token()}", "X-Organization-Id": ACME}, timeout=10)
    assert good.status_code == 200


def test_help_of_allow_private_webhooks_says_link_local_stays_refused() -> None:
    """`serve --help` says --allow-private-webhooks lifts only the private ranges, as the URL policy does."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(out.getvalue().split())
    assert "allow webhook URLs on private addresses" in text
    assert "link-local, reserved, multicast and unspecified addresses stay refused" in text



def test_an_unwritable_credentials_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A credentials file that cannot be written stops the server with one readable line and exit status 2, no traceback."""
    target = tmp_path / "missing-folder" / "credentials.json"
    status = main(["--data-dir", str(tmp_path), "serve", "--memory", "--port", "0", "--credentials-file", str(target)])
    err = capsys.readouterr().err
    assert status == 2
    assert "cannot write the credentials file" in err and "Traceback" not in err
