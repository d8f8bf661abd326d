"""ehcp-bot: run the service, migrate the database, manage caseworker API tokens."""

from __future__ import annotations

import argparse
import asyncio
import sys

from core.config import Settings


def _cmd_run(settings: Settings, _: argparse.Namespace) -> int:
    from bot.factory import MissingBotToken
    from ehcp.app import install_stop_signals, run_everything

    async def main() -> None:
        stop = asyncio.Event()
        install_stop_signals(stop)
        await run_everything(settings, stop)

    try:
        asyncio.run(main())
    except MissingBotToken as exc:
        print(f"ehcp-bot: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_deliver(settings: Settings, _: argparse.Namespace) -> int:
    from notifications.worker import main as worker_main

    worker_main()
    return 0


def _cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from core.migrations import upgrade

    url = settings.storage.resolved_database_url()
    upgrade(url)
    print("Database is up to date.")
    return 0


def _cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from core.migrations import upgrade
    from core.portal import create_portal
    from core.tokens import TokenError, create_token, list_tokens, revoke_token

    upgrade(settings.storage.resolved_database_url())

    async def main() -> int:
        portal = create_portal(settings)
        try:
            if args.action == "create":
                try:
                    token = await create_token(portal, args.name)
                except TokenError as exc:
                    print(f"ehcp-bot: {exc}", file=sys.stderr)
                    return 1
                print(token)
                print(
                    f"Token '{args.name}' created. Store it now: it is shown only once.",
                    file=sys.stderr,
                )
                return 0
            if args.action == "revoke":
                if await revoke_token(portal, args.name):
                    print(f"Token '{args.name}' revoked.")
                    return 0
                print(f"ehcp-bot: no active token named '{args.name}'.", file=sys.stderr)
                return 1
            for t in await list_tokens(portal):
                print(t)
            return 0
        finally:
            await portal.close()

    return asyncio.run(main())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ehcp-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling), both HTTP servers and the jobs")
    sub.add_parser("deliver", help="run only the delivery workers (outbox to Telegram and email)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    token = sub.add_parser("token", help="caseworker API tokens")
    tsub = token.add_subparsers(dest="action", required=True)
    tsub.add_parser("create", help="create a token and print it once").add_argument("name")
    tsub.add_parser("revoke", help="revoke a token").add_argument("name")
    tsub.add_parser("list", help="list tokens (names and dates, never the tokens)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = Settings()
    from ehcp.logs import setup_logging

    setup_logging(settings)
    handlers = {"run": _cmd_run, "deliver": _cmd_deliver, "migrate": _cmd_migrate, "token": _cmd_token}
    sys.exit(handlers[args.command](settings, args))


if __name__ == "__main__":
    main()
