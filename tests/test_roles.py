"""The process roles as an operator starts them: `ehcp-bot web` and `ehcp-bot worker` never migrate
(several start at once), so each refuses a database that is not up to date and says what to do;
a database a newer release migrated further is fine (a rolling release); `web` receives by
webhook only."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.migrations import pending, upgrade
from tests.conftest import sqlite_only

ROOT = Path(__file__).resolve().parent.parent


def ehcp(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EHCP_")}
    clean.update({"EHCP_DATA_DIR": str(data_dir), "EHCP_SECRET_KEY": "test-secret-key-" + "x" * 32,
                  "EHCP_API_PORT": "0", "EHCP_WEB_PORT": "0", **env})
    return subprocess.run([sys.executable, "-m", "ehcp", *args], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=60, check=False)


@sqlite_only
@pytest.mark.parametrize("role", ["web", "worker"])
def test_a_role_refuses_a_database_that_was_not_migrated(role: str, tmp_path: Path):
    done = ehcp(tmp_path, role)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Run `ehcp-bot migrate` first" in done.stderr
    assert "Traceback" not in done.stderr


def test_web_with_a_bot_needs_the_webhook(tmp_path: Path):
    done = ehcp(tmp_path, "web", EHCP_BOT_TOKEN="123456:TEST-token-abcdefghijklmnop")
    assert done.returncode == 2
    assert "EHCP_WEBHOOK_URL" in done.stderr and "ehcp-bot run" in done.stderr


@sqlite_only
def test_a_database_migrated_further_by_a_newer_release_is_accepted(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    assert pending(url)  # empty
    upgrade(url)
    assert not pending(url)
    with sqlite3.connect(tmp_path / "x.sqlite3") as db:  # a revision this code does not know yet
        db.execute("UPDATE alembic_version SET version_num = 'a1b2c3d4e5f6'")
    assert not pending(url)
