"""ehcp-bot: run the service, migrate the database, manage caseworker API tokens and the staff
group's caseworkers."""

from __future__ import annotations

import argparse
import asyncio
import sys

from core.config import Settings


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.factory import MissingBotToken
    from ehcp.app import install_stop_signals, run_everything

    if settings.telegram.bot_token is None:
        print(NO_TOKEN_SANDBOX, file=sys.stderr, flush=True)
        return _cmd_sandbox(settings, args)

    async def main() -> None:
        stop = asyncio.Event()
        install_stop_signals(stop)
        await run_everything(settings, stop)

    from core.forms.questions import FormDefinitionError
    from core.knowledge import KBError
    from core.rights import RightsError

    try:
        asyncio.run(main())
    except (MissingBotToken, FormDefinitionError, RightsError, KBError) as exc:
        print(f"ehcp-bot: {exc}", file=sys.stderr)
        return 2
    return 0


NO_TOKEN_SANDBOX = """
  EHCP_BOT_TOKEN is not set, so this is the sandbox: the whole product with a pretend Telegram
  and a pretend mailbox, in its own data folder. Nothing reaches a real person.

  To run the real service: create a bot with @BotFather in Telegram, then
      export EHCP_BOT_TOKEN=123456:ABC...      (or put it in a .env file)
  and run this command again. See README.md, "Connect a real bot".
"""


def _cmd_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    """The sandbox (sandbox/runtime.py), in <data_dir>/sandbox, on 127.0.0.1 only. A bad form
    definition stops it before anything starts, as it stops `run`."""
    from core.forms.loading import load_forms
    from core.forms.questions import FormDefinitionError
    from core.knowledge import KBError, load_kb
    from core.rights import RightsError, facts_for, load_topics
    from ehcp.app import install_stop_signals
    from ehcp.sandbox import forget, serve

    try:
        load_forms(settings.product.forms_dir)
        load_topics(settings.product.rights_dir)
        load_kb(settings.product.kb_dir, facts=facts_for(None, settings), rights_dir=settings.product.rights_dir)
    except (FormDefinitionError, RightsError, KBError) as exc:
        print(f"ehcp-bot: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "reset", False) and forget(settings.storage.data_dir / "sandbox"):
        print("The sandbox starts again from the demo families.", file=sys.stderr)

    async def main() -> None:
        stop = asyncio.Event()
        install_stop_signals(stop)
        await serve(settings.storage.data_dir / "sandbox", settings.http.sandbox_port, stop)

    asyncio.run(main())
    return 0


def _cmd_forms(settings: Settings, args: argparse.Namespace) -> int:
    """Check the form definitions (bundled, and the council's own in EHCP_FORMS_DIR) and list
    them: a definition with a problem is named with the problem, and the exit status is 1."""
    from core.forms.loading import load_forms
    from core.forms.questions import FormDefinitionError

    try:
        forms = load_forms(settings.product.forms_dir)
    except FormDefinitionError as exc:
        print(f"ehcp-bot: {exc}", file=sys.stderr)
        return 1
    for form in sorted(forms.values(), key=lambda f: f.id):
        questions = len(form.questions())
        print(f"{form.id}\tv{form.version}\t{form.started_by}\t{len(form.steps)} steps, "
              f"{questions} questions\t{form.title}")
    return 0


def _cmd_kb(settings: Settings, args: argparse.Namespace) -> int:
    """`kb check`: every knowledge-base file (bundled, the rights pages, the council's folder:
    --dir, or EHCP_KB_DIR) checked and listed; `kb ask "question"`: the answer and its source, or
    the decline. A file with a problem is named with the problem, and the exit status is 1."""
    from pathlib import Path

    from core.knowledge import Answer, KBError, load_kb
    from core.rights import facts_for

    folder = args.dir or settings.product.kb_dir
    try:
        kb = load_kb(Path(folder) if folder else None, facts=facts_for(None, settings),
                     rights_dir=settings.product.rights_dir)
    except KBError as exc:
        print(f"ehcp-bot: {exc}", file=sys.stderr)
        return 1
    if args.action == "check":
        for f in kb.files:
            print(f"{f.name}\t{f.origin}\t{len(f.passages)} passages\t{f.licence.name}\t{f.source.title}")
        print(f"{len(kb.files)} files, {len(kb.passages)} passages: all good.")
        return 0
    reply = kb.ask(args.question)
    if isinstance(reply, Answer):
        print(reply.text())
        print(f"\n(passage {reply.passage.id} in {reply.passage.file}, confidence {reply.confidence:.2f})")
        return 0
    print(f"I don't know: nothing in the knowledge base answers this well enough ({reply.reason}). "
          "Ask the SEND team.")
    return 0


def _role(settings: Settings, name: str) -> int:
    """Run one process role (`web` or `worker`) until SIGTERM or SIGINT."""
    from core.forms.questions import FormDefinitionError
    from core.knowledge import KBError
    from core.rights import RightsError
    from ehcp.app import NotReady, install_stop_signals, run_web, run_worker

    role = {"web": run_web, "worker": run_worker}[name]

    async def main() -> None:
        stop = asyncio.Event()
        install_stop_signals(stop)
        await role(settings, stop)

    try:
        asyncio.run(main())
    except (NotReady, FormDefinitionError, RightsError, KBError) as exc:
        print(f"ehcp-bot {name}: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_web(settings: Settings, _: argparse.Namespace) -> int:
    return _role(settings, "web")


def _cmd_worker(settings: Settings, _: argparse.Namespace) -> int:
    return _role(settings, "worker")


def _cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from core.migrations import upgrade

    url = settings.storage.resolved_database_url()
    upgrade(url)
    print("Database is up to date.")
    return 0


def _cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from core.migrations import upgrade
    from core.tokens import TokenError, create_token, list_tokens, revoke_token
    from ehcp.bootstrap import build_portal

    upgrade(settings.storage.resolved_database_url())

    async def main() -> int:
        portal = build_portal(settings)
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


def _cmd_staff(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from core.audit import Actor
    from core.messages.models import StaffMember
    from core.messages.staff import StaffDirectory
    from core.migrations import upgrade
    from ehcp.bootstrap import build_portal

    upgrade(settings.storage.resolved_database_url())
    actor = Actor.caseworker("cli")

    async def main() -> int:
        portal = build_portal(settings)
        try:
            staff = StaffDirectory(portal)
            if args.action == "map":
                name = " ".join(args.name.split())
                if not name or len(name) > 100:
                    print("ehcp-bot: give the caseworker's name (1 to 100 characters).",
                          file=sys.stderr)
                    return 1
                await staff.map(args.telegram_user_id, name, actor)
                print(f"Telegram account {args.telegram_user_id} now replies as {name}.")
                return 0
            if args.action == "unmap":
                if await staff.unmap(args.telegram_user_id, actor):
                    print(f"Telegram account {args.telegram_user_id} unmapped.")
                    return 0
                print(f"ehcp-bot: Telegram account {args.telegram_user_id} is not mapped.",
                      file=sys.stderr)
                return 1
            async with portal.db() as s:
                query = select(StaffMember).order_by(StaffMember.caseworker_name)
                rows = (await s.scalars(query)).all()
            for m in rows:
                when = f"{m.mapped_at:%Y-%m-%d}"
                print(f"{m.telegram_user_id}\t{m.caseworker_name}\tmapped {when} by {m.mapped_by}")
            return 0
        finally:
            await portal.close()

    return asyncio.run(main())


def _cmd_updates(settings: Settings, args: argparse.Namespace) -> int:
    """Telegram updates the bot gave up on (unreadable, or failing every time), and putting them
    back after a fix."""
    import json

    from core.inbox import UpdateInbox
    from core.migrations import upgrade
    from ehcp.bootstrap import build_portal

    upgrade(settings.storage.resolved_database_url())

    async def main() -> int:
        portal = build_portal(settings)
        try:
            inbox = UpdateInbox(portal, bot_id=None)
            if args.action == "retry":
                n = await inbox.retry_failed(args.update_ids or None)
                print(f"{n} update(s) will be handled again when the bot next starts.")
                return 0
            counts = await inbox.counts()
            failed = await inbox.failed(args.limit)
            if args.json:
                for f in failed:
                    print(json.dumps({"update_id": f.update_id, "chat_id": f.chat_id, "error": f.error,
                                      "received_at": f.received_at.isoformat(), "failed_at": f.failed_at.isoformat(),
                                      "tries": f.attempts, "update": json.loads(f.payload) if f.payload else None},
                                     ensure_ascii=False))
                return 0
            print(f"{counts['failed']} failed, {counts['pending']} waiting to be handled.")
            for f in failed:
                print(f"update {f.update_id}\tchat {f.chat_id if f.chat_id is not None else '-'}\t"
                      f"failed {f.failed_at:%Y-%m-%d %H:%M:%S} UTC after {f.attempts} tries\t{f.error}")
            return 0
        finally:
            await portal.close()

    return asyncio.run(main())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ehcp-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling), both HTTP servers and the jobs "
                   "(with no EHCP_BOT_TOKEN: the sandbox)")
    sandbox = sub.add_parser("sandbox", help="the whole product in a browser, with a pretend Telegram and mailbox")
    sandbox.add_argument("--reset", action="store_true", help="forget the sandbox's data and start again")
    sub.add_parser("web", help="a web replica: the webhook, the caseworker API and the pages (any number)")
    sub.add_parser("worker", help="a worker: outbox to Telegram and email, reminders, staff relay (any number)")
    sub.add_parser("deliver", help="the same as worker (its older name)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    token = sub.add_parser("token", help="caseworker API tokens")
    tsub = token.add_subparsers(dest="action", required=True)
    tsub.add_parser("create", help="create a token and print it once").add_argument("name")
    tsub.add_parser("revoke", help="revoke a token").add_argument("name")
    tsub.add_parser("list", help="list tokens (names and dates, never the tokens)")
    staff = sub.add_parser(
        "staff", help="staff group: Telegram accounts and the caseworker names they reply as"
    )
    ssub = staff.add_subparsers(dest="action", required=True)
    smap = ssub.add_parser("map", help="map a staff Telegram account to a caseworker name")
    smap.add_argument("telegram_user_id", type=int)
    smap.add_argument("name", help='the caseworker\'s name, as parents see it, e.g. "Jo Smith"')
    sunmap = ssub.add_parser("unmap", help="unmap a staff Telegram account")
    sunmap.add_argument("telegram_user_id", type=int)
    ssub.add_parser("list", help="list the mapped staff accounts")
    updates = sub.add_parser("updates", help="Telegram updates the bot gave up on")
    usub = updates.add_subparsers(dest="action", required=True)
    ufailed = usub.add_parser("failed", help="list them, newest first, with the reason (--json: with the update)")
    ufailed.add_argument("--limit", type=int, default=50)
    ufailed.add_argument("--json", action="store_true", help="one JSON object a line, with the update as received")
    uretry = usub.add_parser("retry", help="handle failed updates again when the bot next starts")
    uretry.add_argument("update_ids", nargs="*", type=int, help="only these (default: all)")
    forms = sub.add_parser("forms", help="form definitions")
    forms.add_subparsers(dest="action", required=True).add_parser(
        "check", help="check every form definition (bundled and EHCP_FORMS_DIR) and list them"
    )
    kb = sub.add_parser("kb", help="the knowledge base that answers parents' questions")
    kbsub = kb.add_subparsers(dest="action", required=True)
    kbsub.add_parser("check", help="check every file (bundled, rights pages, EHCP_KB_DIR) and list them"
                     ).add_argument("--dir", help="the council's folder (default: EHCP_KB_DIR)")
    kask = kbsub.add_parser("ask", help="answer one question from the knowledge base, or decline")
    kask.add_argument("question")
    kask.add_argument("--dir", help="the council's folder (default: EHCP_KB_DIR)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = Settings()
    from ehcp.logs import setup_logging

    setup_logging(settings)
    handlers = {
        "run": _cmd_run, "sandbox": _cmd_sandbox, "web": _cmd_web, "worker": _cmd_worker, "deliver": _cmd_worker, "migrate": _cmd_migrate, "token": _cmd_token,
        "staff": _cmd_staff, "forms": _cmd_forms, "updates": _cmd_updates, "kb": _cmd_kb,
    }
    sys.exit(handlers[args.command](settings, args))


if __name__ == "__main__":
    main()
