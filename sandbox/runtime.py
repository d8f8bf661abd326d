"""The sandbox: the whole product as it really runs, with no Telegram bot and no set-up.

`ehcp-bot sandbox` (and `ehcp-bot run` with no bot token; both in `ehcp/sandbox.py`) runs the
same process as the real service (`ehcp.app.run_everything`: the bot's polling, its dialogues, the caseworker API, the
parents' pages, the outbox, the scheduler's ticks) with three things swapped:

- Telegram is the project's Bot API stand-in, on loopback, in this process; parents are its
  simulated users, driven from the sandbox's page;
- email goes to a mailbox on loopback (a real SMTP server that keeps what it is sent);
- the clock is the sandbox's, which can be moved forward.

Its data lives in its own folder (`var/sandbox/` by default): its own SQLite file and secret key,
whatever EHCP_DATABASE_URL or EHCP_BOT_TOKEN say. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import shutil
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.clock import MovableClock
from core.config import Settings
from core.portal import Portal
from core.tokens import create_token
from sandbox.mailbox import Mailbox
from standin import BotAPIStandIn
from standin.actors.group import SimGroup
from standin.actors.user import SimUser

log = logging.getLogger("ehcp.sandbox")

TOKEN = "100000001:SANDBOX-not-a-real-telegram-token"
BOT_USERNAME = "ehcp_sandbox_bot"
CASEWORKERS = (("Jo", "Smith"), ("Sam", "Patel"))  # the staff group's members, mapped by the demo
HOST = "127.0.0.1"  # the sandbox never listens beyond this machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Changes:
    """A counter the page's event stream waits on: bumped when a chat or the mailbox changes."""

    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()

    def bump(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def after(self, version: int, timeout: float) -> int:  # noqa: ASYNC109 - a keep-alive, not a wait for time
        """The version once it is past `version` (or as it is when `timeout` passes)."""
        if self.version == version:
            try:
                await asyncio.wait_for(self._event.wait(), timeout)
            except TimeoutError:
                pass
        return self.version


def reset(data_dir: Path) -> bool:
    """Forget the sandbox: its folder removed (only a sandbox's own folder: one with its
    sandbox.json, and never a folder with the real service's files beside it). True if removed."""
    if not (data_dir / "sandbox.json").exists():
        return False
    shutil.rmtree(data_dir)
    return True


@dataclass
class Sandbox:
    """What the sandbox holds beside the product: the stand-in (Telegram) and its parents, the
    mailbox, the clock, the SEND team's token. `ehcp/sandbox.py` runs the product with it."""

    data_dir: Path
    page_port: int = 0  # where the sandbox's page listens (its origin may frame the portal's pages)    settings: Settings | None = None
    stand: BotAPIStandIn | None = None
    mailbox: Mailbox | None = None
    clock: MovableClock = field(default_factory=MovableClock)
    parents: list[SimUser] = field(default_factory=list)
    group: SimGroup | None = None  # the staff group (a forum: a topic per family)
    caseworkers: list[SimUser] = field(default_factory=list)  # its members
    api_token: str | None = None
    seeded: bool = False  # the demo families were made (on the first start)
    portal: Portal | None = None  # the product's (set once it runs): for what the page asks of core
    changes: Changes = field(default_factory=Changes)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop_event: asyncio.Event | None = None  # set to stop this run (ehcp/sandbox.py gives it)
    reset_asked: bool = False  # the page's "Start again": forget everything once stopped

    def start_again(self) -> None:
        """The page's "Start again": this run stops, its folder is forgotten, a fresh one starts."""
        self.reset_asked = True
        if self.stop_event is not None:
            self.stop_event.set()

    # ------------------------------------------------------------------ what it keeps

    def _state_file(self) -> Path:
        return self.data_dir / "sandbox.json"

    def _load_state(self) -> dict[str, Any]:
        try:
            return json.loads(self._state_file().read_text())
        except (OSError, ValueError):
            return {}

    def save_state(self) -> None:
        state = {"parents": [p.first_name for p in self.parents], "clock_offset_s": self.clock.offset.total_seconds(),
                 "seeded": self.seeded}
        self._state_file().write_text(json.dumps(state, indent=1))

    def add_parent(self, first_name: str) -> SimUser:
        assert self.stand is not None
        user = self.stand.user(first_name=first_name)
        self.parents.append(user)
        self.save_state()
        return user

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.save_state()
        self.changes.bump()

    async def start(self) -> None:
        """The pretend Telegram and the mailbox, and the parents of last time (the stand-in
        numbers its users in the order they are made, so their chats keep their ids)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        state = self._load_state()
        self.clock = MovableClock(timedelta(seconds=float(state.get("clock_offset_s", 0))))
        self.seeded = bool(state.get("seeded", False))
        self.save_state()  # the folder is known as a sandbox's from its first start (reset checks)
        self.stand = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME, bot_name="SEND Portal (Sandbox)")
        await self.stand.start()
        self.stand.world.changed = _Bumping(self.stand.world.changed, self.changes.bump)
        self.mailbox = Mailbox(HOST, self.changes.bump)
        smtp_port = self.mailbox.start()
        # The staff group and its two caseworkers first, then the parents: the stand-in numbers
        # users in the order they are made, so every start gives each the same id.
        self.group = self.stand.group("SEND caseworkers", forum=True)
        for first, last in CASEWORKERS:
            user = self.stand.user(first_name=first, last_name=last)
            await self.group.add_member(user)
            self.caseworkers.append(user)
        self.settings = self._settings(smtp_port)
        for name in state.get("parents", []):
            self.parents.append(self.stand.user(first_name=name))

    async def stop(self) -> None:
        if self.mailbox is not None:
            self.mailbox.stop()
        if self.stand is not None:
            await self.stand.stop()

    def _settings(self, smtp_port: int) -> Settings:
        """The product's settings in the sandbox: its own folder and database whatever the
        environment says, the stand-in for Telegram, the mailbox for SMTP, loopback only."""
        assert self.stand is not None
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        web_port = free_port()
        return Settings(
            _env_file=None, data_dir=self.data_dir,
            database_url=f"sqlite+aiosqlite:///{(self.data_dir / 'ehcp.sqlite3').resolve()}",
            secret_key=key_file.read_text().strip(), bot_token=self.stand.token, bot_username=BOT_USERNAME,
            telegram_api_base=self.stand.base_url, polling_timeout=1,
            staff_chat_id=self.group.id if self.group is not None else None,
            smtp_host=HOST, smtp_port=smtp_port, smtp_tls="none", smtp_user=None, smtp_password=None,
            api_host=HOST, api_port=free_port(), web_host=HOST, web_port=web_port,
            public_url=f"http://{HOST}:{web_port}",
            frame_ancestors=f"http://{HOST}:{self.page_port}" if self.page_port else "",
            page_banner="Sandbox: nothing here reaches a real person.",
            # Reminders looked for every 2 s: moving the clock shows them at once.
            reminder_interval=2.0,
        )

    async def api_token_for(self, portal: Portal) -> None:
        """The SEND team panel's caseworker API token (made once; kept in the data folder), once
        the product has migrated the database."""
        token_file = self.data_dir / "api_token"
        if token_file.exists():
            self.api_token = token_file.read_text().strip()
            return
        for _ in range(600):
            try:
                self.api_token = await create_token(portal, "sandbox")
                break
            except Exception:  # noqa: BLE001 - its tables are not there yet
                await asyncio.sleep(0.1)
        if self.api_token is None:
            raise RuntimeError("the sandbox's database was not ready")
        token_file.write_text(self.api_token)
        token_file.chmod(0o600)

    @property
    def api_url(self) -> str:
        assert self.settings is not None
        return f"http://{HOST}:{self.settings.http.api_port}"


class _Bumping:
    """The stand-in's change signal, also bumping the sandbox's counter (so the page hears of
    every message, edit and deletion in every chat)."""

    def __init__(self, inner: Any, bump: Any) -> None:
        self._inner = inner
        self._bump = bump

    def notify(self) -> None:
        self._inner.notify()
        self._bump()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
