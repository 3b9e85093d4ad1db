"""Serve the reference server with one broken variant applied: `python tests/mutants/serve.py NAME`.

Writes the same credentials file as `apollospace-refserver serve`, so the kit
can be pointed at it exactly like at the real thing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import uvicorn  # noqa: E402

from apollospace_refserver import Settings, create_app  # noqa: E402
from apollospace_refserver.cli import credentials  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("variant", help="module name under tests/mutants/variants, a dotted module path, or 'reference' for the unbroken server")
    parser.add_argument("--credentials-file", required=True)
    args = parser.parse_args()
    settings = Settings(database=":memory:", webhook_retry_schedule=(1.0, 2.0, 4.0), run_step_seconds=0.02)
    wrap = None
    if args.variant != "reference":
        # A dotted name is a module elsewhere (tests/conformance/servers: correct servers in unusual configurations).
        variant = importlib.import_module(args.variant if "." in args.variant else f"tests.mutants.variants.{args.variant}")
        configure = getattr(variant, "configure", None)
        if configure is not None:
            settings = configure(settings)
        patch = getattr(variant, "patch", None)
        if patch is not None:
            patch()
        wrap = getattr(variant, "wrap", None)
    app = create_app(settings)
    served = wrap(app) if wrap is not None else app
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # IPPROTO_TCP: asyncio then sets TCP_NODELAY
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
    creds = credentials(app.state.services.tokens, f"http://127.0.0.1:{port}/v1")
    if os.environ.get("APOLLOSPACE_SPEC_DIR"):  # a variant served with a test spec: the kit must read the same one
        creds["spec_dir"] = os.environ["APOLLOSPACE_SPEC_DIR"]
    partial = Path(args.credentials_file + ".partial")
    partial.write_text(json.dumps(creds), "utf-8")
    partial.replace(args.credentials_file)
    uvicorn.Server(uvicorn.Config(served, log_level="error", access_log=False, lifespan="on")).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
