"""`apollospace-refserver`: run the reference server and mint its tokens."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from apollospace_refserver.auth import SigningKeys, TokenAuthority
from apollospace_refserver.config import DEFAULT_RATE_LIMITS, DOCUMENTED_RETRY_SCHEDULE, Settings
from apollospace_refserver.seed import ORGANIZATIONS, USERS, user_by_key


def credentials(tokens: TokenAuthority, base_url: str) -> dict[str, Any]:
    """Every seed user's token, plus the two tenants and the expired token the kit needs."""
    people = []
    for org in ORGANIZATIONS:
        for user_key, role in org.members:
            user = user_by_key(user_key)
            people.append({"user": user.key, "user_id": user.id, "role": role, "organization": org.name,
                           "organization_id": org.id, "token": tokens.mint(user.id)})
    acme, globex = ORGANIZATIONS
    owner_a, owner_b = user_by_key(acme.members[0][0]), user_by_key(globex.members[0][0])
    return {
        "url": base_url,
        "tenant_a": {"token": tokens.mint(owner_a.id), "organization_id": acme.id},
        "tenant_b": {"token": tokens.mint(owner_b.id), "organization_id": globex.id},
        "expired_token": tokens.mint(owner_a.id, expired=True),
        "users": people,
    }


def print_credentials(creds: dict[str, Any]) -> None:
    print(f"Apollo Space reference server: {creds['url']}")
    print("Paste to call it as Olivia (owner of Acme Prospecting):")
    print(f"  export APOLLOSPACE_URL={creds['url']}")
    print(f"  export APOLLOSPACE_TOKEN={creds['tenant_a']['token']}")
    print(f"  export APOLLOSPACE_ORG={creds['tenant_a']['organization_id']}")
    print('  curl -s "$APOLLOSPACE_URL/leads" -H "Authorization: Bearer $APOLLOSPACE_TOKEN" -H "X-Organization-Id: $APOLLOSPACE_ORG"')
    print("Other seed users (role, organization, X-Organization-Id):")
    for person in creds["users"]:
        print(f"  {person['user']:7} {person['role']:6} {person['organization']:17} {person['organization_id']}")
    print("Tokens of every user: apollospace-refserver tokens --json")


def write_private_atomically(target: Path, text: str) -> None:
    """Write `text` to `target` whole or not at all, readable by the owner only (it holds every user's tokens).

    A uniquely named temporary file beside the target, created 0600, then
    renamed over it: a reader never sees half a file or a world-readable one.
    """
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise


def _settings(args: argparse.Namespace) -> Settings:
    data_dir = Path(args.data_dir)
    limits = dict(DEFAULT_RATE_LIMITS)
    for item in args.rate_limit or []:
        name, _, value = item.partition("=")
        if name not in limits or not value.isdigit():
            raise SystemExit(f"apollospace-refserver: --rate-limit expects read=N, write=N or billable=N, got {item!r}")
        limits[name] = int(value)
    schedule = DOCUMENTED_RETRY_SCHEDULE
    if args.webhook_retry_schedule:
        try:
            schedule = tuple(float(part) for part in args.webhook_retry_schedule.split(","))
        except ValueError:
            raise SystemExit("apollospace-refserver: --webhook-retry-schedule expects seconds like 1,2,4") from None
    return Settings(
        database=":memory:" if getattr(args, "memory", False) else str(data_dir / "apollospace.sqlite3"),
        data_dir=data_dir,
        rate_limits=limits,
        rate_window_seconds=args.rate_window,
        webhook_retry_schedule=schedule,
        allow_private_webhooks=args.allow_private_webhooks,
    )


def _serve(args: argparse.Namespace) -> int:
    from apollospace_refserver.app import create_app
    from apollospace_refserver.edge import AnnouncingServer, edge_config

    if not ipaddress.ip_address(socket.gethostbyname(args.host)).is_loopback and not args.allow_remote:
        print(f"apollospace-refserver: refusing to listen on {args.host}: not loopback (pass --allow-remote to insist)", file=sys.stderr)
        return 2
    settings = _settings(args)
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # IPPROTO_TCP: asyncio then sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(f"apollospace-refserver: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    creds = credentials(app.state.services.tokens, f"http://{host}:{port}/v1")

    failures: list[str] = []

    def announce() -> None:
        # Only once uvicorn serves the socket: whoever sees the file can connect at once.
        if args.credentials_file:
            try:
                write_private_atomically(Path(args.credentials_file), json.dumps(creds, indent=2) + "\n")
            except OSError as exc:
                failures.append(f"cannot write the credentials file {args.credentials_file}: {exc.strerror}")
                server.should_exit = True
                return
        print_credentials(creds)
        sys.stdout.flush()

    server = AnnouncingServer(edge_config(app, log_level=args.log_level, access_log=False), announce)
    server.run(sockets=[sock])
    if failures:
        print(f"apollospace-refserver: {failures[0]}", file=sys.stderr)
        return 2
    return 0


def _tokens(args: argparse.Namespace) -> int:
    keys_path = Path(args.data_dir) / "jwt-signing-key.pem"
    if not keys_path.is_file():
        print(f"apollospace-refserver: no signing key in {args.data_dir}; start the server once with `apollospace-refserver serve`", file=sys.stderr)
        return 2
    settings = Settings(data_dir=Path(args.data_dir))
    tokens = TokenAuthority(SigningKeys.load_or_create(Path(args.data_dir)), settings.issuer, settings.audience)
    if args.user:
        known = {user.key: user for user in USERS}
        if args.user not in known:
            print(f"apollospace-refserver: unknown user {args.user!r}; one of {', '.join(known)}", file=sys.stderr)
            return 2
        print(tokens.mint(known[args.user].id, ttl_seconds=args.ttl, expired=args.expired))
        return 0
    creds = credentials(tokens, args.url)
    if args.json:
        print(json.dumps(creds, indent=2))
    else:
        print_credentials(creds)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apollospace-refserver", description="The Apollo Space v1 reference server: a stateful, local implementation of the whole contract.")
    parser.add_argument("--data-dir", default=".data", help="folder for the SQLite file and the signing key (default: .data)")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the server on loopback and print ready-to-paste credentials")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    serve.add_argument("--memory", action="store_true", help="keep everything in memory, at most 1 GiB (nothing survives a restart)")
    serve.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    serve.add_argument("--allow-private-webhooks", action="store_true", help="allow webhook URLs on private addresses (RFC 1918, shared address space, unique local); link-local, reserved, multicast and unspecified addresses stay refused")
    serve.add_argument("--rate-limit", action="append", metavar="CLASS=N", help="requests per window for read, write or billable (repeatable)")
    serve.add_argument("--rate-window", type=float, default=60.0, metavar="SECONDS")
    serve.add_argument("--webhook-retry-schedule", metavar="S,S,...", help="seconds between webhook attempts (default: the documented schedule)")
    serve.add_argument("--credentials-file", metavar="PATH", help="also write the credentials as JSON to PATH (mode 0600, atomically) once the server accepts connections")
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(run=_serve)
    tokens = commands.add_parser("tokens", help="mint tokens for the seed users (the server's key must exist)")
    tokens.add_argument("--user", help="print only this user's token (olivia, arthur, mia, victor, bruno, bea)")
    tokens.add_argument("--expired", action="store_true", help="mint an already-expired token (with --user)")
    tokens.add_argument("--ttl", type=int, default=8 * 3600, help="token lifetime in seconds (default 8 hours)")
    tokens.add_argument("--json", action="store_true", help="print every credential as JSON")
    tokens.add_argument("--url", default="http://127.0.0.1:8787/v1", help="base URL to print beside the tokens")
    tokens.set_defaults(run=_tokens)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
