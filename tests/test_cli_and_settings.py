"""The command line, the README's settings table, and no secret in clear in the database or logs."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp

from core.config import Settings, settings_table
from tests.stack import free_port

ROOT = Path(__file__).resolve().parent.parent


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHCP_")}
    env.update({"EHCP_DATA_DIR": str(data_dir), **extra})
    return env


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ehcp", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def all_text_in(db_file: Path) -> str:
    """Every value of every table, as text: what someone with a copy of the database would see."""
    con = sqlite3.connect(db_file)
    try:
        out = []
        for (table,) in con.execute("select name from sqlite_master where type='table'"):
            for row in con.execute(f'select * from "{table}"'):
                out.extend(str(v) for v in row)
        return "\n".join(out)
    finally:
        con.close()


def test_readme_lists_every_setting_with_its_default():
    readme = (ROOT / "README.md").read_text()
    for line in settings_table().splitlines()[2:]:
        assert line in readme, f"README's settings table is out of date; missing:\n{line}"


def test_settings_come_from_the_environment_and_secrets_are_masked(monkeypatch):
    monkeypatch.setenv("EHCP_BOT_TOKEN", "999:very-secret-token-value")
    monkeypatch.setenv("EHCP_SMTP_PASSWORD", "smtp-secret-password")
    monkeypatch.setenv("EHCP_API_PORT", "9999")
    s = Settings(_env_file=None)
    assert s.http.api_port == 9999
    assert s.telegram.bot_token.get_secret_value() == "999:very-secret-token-value"
    shown = repr(s.telegram) + str(s.mail) + repr(s.mail)
    assert "very-secret-token-value" not in shown and "smtp-secret-password" not in shown


def test_token_create_prints_once_stores_a_digest_and_revoke_works(tmp_path):
    env = cli_env(tmp_path / "var")
    created = run_cli("token", "create", "case-system", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert len(token) >= 40
    assert "shown only once" in created.stderr

    db = tmp_path / "var" / "ehcp.sqlite3"
    assert token not in all_text_in(db)
    assert token not in created.stderr

    again = run_cli("token", "create", "case-system", env=env)
    assert again.returncode == 1 and "case-system" in again.stderr

    listed = run_cli("token", "list", env=env)
    assert "case-system" in listed.stdout and token not in listed.stdout

    assert run_cli("token", "revoke", "case-system", env=env).returncode == 0
    assert run_cli("token", "revoke", "case-system", env=env).returncode == 1


def test_migrate_is_repeatable(tmp_path):
    env = cli_env(tmp_path / "var")
    assert run_cli("migrate", env=env).returncode == 0
    second = run_cli("migrate", env=env)
    assert second.returncode == 0 and "up to date" in second.stdout


async def test_run_without_a_token_starts_the_sandbox_and_says_how_to_connect_a_bot(tmp_path):
    port = free_port()
    env = cli_env(tmp_path / "var", EHCP_SANDBOX_PORT=str(port))
    env.pop("EHCP_BOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ehcp", "run", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    seen = ""
    try:
        async with asyncio.timeout(60):
            while "Sandbox running: open" not in seen:
                line = await proc.stderr.readline()
                assert line, f"process ended early:\n{seen}"
                seen += line.decode()
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as r:
            assert r.status == 200 and "Sandbox" in await r.text()
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(proc.communicate(), 30)
        seen += rest[1].decode()
    assert "EHCP_BOT_TOKEN is not set, so this is the sandbox" in seen
    assert f"open http://127.0.0.1:{port} in a browser" in seen
    assert "@BotFather" in seen
    assert proc.returncode == 0, seen
    sandbox = tmp_path / "var" / "sandbox"  # its own folder: nothing of the real service's
    assert (sandbox / "ehcp.sqlite3").exists() and not (tmp_path / "var" / "ehcp.sqlite3").exists()
    assert oct((sandbox / "secret_key").stat().st_mode & 0o777) == "0o600"
