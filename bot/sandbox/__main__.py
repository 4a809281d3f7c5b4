"""Run the sandbox standalone: ``python -m bot.sandbox --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from bot.sandbox.server import Sandbox


async def serve(args: argparse.Namespace) -> None:
    """Start the sandbox, print how to reach it and serve until interrupted."""
    sandbox = Sandbox(
        token=args.token,
        bot_username=args.username,
        api_spec=args.api_spec,
        flood=args.flood,
        strict_html=not args.lenient_html,
    )
    await sandbox.start(args.host, args.port)
    sys.stdout.write(
        f"base_url={sandbox.base_url}\n"
        f"base_file_url={sandbox.base_file_url}\n"
        f"token={sandbox.token}\n"
    )
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the server."""
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:SANDBOX-TOKEN")
    parser.add_argument("--username", default="netzwerkbot_sandbox_bot")
    parser.add_argument("--api-spec", type=Path, default=None)
    parser.add_argument("--flood", action="store_true", help="emulate Telegram's flood limits")
    parser.add_argument(
        "--lenient-html",
        action="store_true",
        help="accept a bare & or > in HTML like the real server (default: reject them)",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
