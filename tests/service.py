"""The product as an operator runs it: `ehcp-bot run` in its own process, pointed at the Bot API
stand-in of the test (over loopback HTTP), with its own data folder. Tests start it, kill it
(SIGKILL, as a crash would), start it again, and talk to it from outside: the stand-in's users,
the caseworker API over HTTP, the database file, its log."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

from api.cases import api as cases_api
from core.config import Settings
from core.migrations import upgrade_async
from ehcp.bootstrap import build_portal
from tests.stack import api_server, free_port

ROOT = Path(__file__).resolve().parent.parent


class ServiceProcess:
    """`ehcp-bot <role>`: `run` (everything in one process), `web` or `worker`. Ready when its API
    answers (`run`, `web`) or, for a worker, when its log says it is delivering."""

    def __init__(self, data_dir: Path, stand: Any, *, role: str = "run", log_name: str = "service.log",
                 **env: str) -> None:
        self.data_dir = data_dir
        self.stand = stand
        self.role = role
        self.api_port = free_port()
        self.web_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.log_path = data_dir / log_name
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("EHCP_")},
            "EHCP_DATA_DIR": str(data_dir),
            # The test's own database on PostgreSQL (tests/conftest.py); SQLite in data_dir otherwise.
            **({"EHCP_DATABASE_URL": os.environ["EHCP_DATABASE_URL"]} if "EHCP_DATABASE_URL" in os.environ else {}),
            # And its Redis, when the suite runs with one (tests/conftest.py).
            **({"EHCP_REDIS_URL": os.environ["EHCP_REDIS_URL"]} if "EHCP_REDIS_URL" in os.environ else {}),
            "EHCP_SECRET_KEY": "test-secret-key-" + "x" * 32,
            "EHCP_BOT_TOKEN": stand.token,
            "EHCP_BOT_USERNAME": "ehcp_test_bot",
            "EHCP_TELEGRAM_API_BASE": stand.base_url,
            "EHCP_POLLING_TIMEOUT": "1",
            "EHCP_API_PORT": str(self.api_port),
            "EHCP_WEB_PORT": str(self.web_port),
            "EHCP_PUBLIC_URL": f"http://127.0.0.1:{self.web_port}",
            "EHCP_DELIVERY_INTERVAL": "0.2",
            "EHCP_REMINDER_INTERVAL": "5",
            "EHCP_ARGON2_TIME_COST": "1",
            "EHCP_ARGON2_MEMORY_KIB": "8192",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def start(self, *, ready_timeout: float = 60) -> float:  # noqa: ASYNC109
        """Start the process and wait until its API answers; returns the monotonic time it did."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts} =====\n".encode())
        log.flush()
        offset = log.tell()
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - the child runs on its own; nothing waits here
            [sys.executable, "-m", "ehcp", self.role], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + ready_timeout
        if self.role == "worker":
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"the worker exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
                if "delivery started" in self.log_path.read_bytes()[offset:].decode(errors="replace"):
                    return time.monotonic()
                await asyncio.sleep(0.05)
            raise AssertionError(f"the worker did not start:\n{self.log()[-3000:]}")
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"the service exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
                try:
                    async with http.get(self.api_url + "/v1/health", timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return time.monotonic()
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the service did not come up:\n{self.log()[-3000:]}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed, as on a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    async def stop(self, timeout: float = 30) -> int:  # noqa: ASYNC109
        """SIGTERM and wait for a clean exit; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - another process: polled
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"the service did not stop on SIGTERM:\n{self.log()[-3000:]}")
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`ehcp-bot ARGS...` against the same data folder, as an operator types it."""
        return subprocess.run(
            [sys.executable, "-m", "ehcp", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=60, check=False,
        )


# --- families on the service's database, made before it starts -------------------------------------


@dataclass
class Family:
    user: object
    account_id: int
    ref: str


def service_settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, secret_key="test-secret-key-" + "x" * 32)


async def seed_families(data_dir: Path, stand, n: int) -> tuple[str, list[Family]]:  # noqa: ANN001
    """n families, each a case, a carer with active access and a chat linked, made through the
    core's own services on the service's database before it starts. Returns the API token too."""
    from tests.test_cases_api import active_carer

    settings = service_settings(data_dir)
    await upgrade_async(settings.storage.resolved_database_url())
    portal = build_portal(settings)
    try:
        families = []
        async with api_server(portal, [cases_api]) as (base, token), aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {token}"}
        ) as http:
            for i in range(n):
                user = stand.user(first_name=f"Parent{i}")
                ref = f"EHC-{i + 1:04d}"
                case = {"case_reference": ref, "child_forename": f"Child{i}", "child_surname": "Jones",
                        "child_date_of_birth": "2016-05-04", "request_date": "2026-10-01", "requestor": "Parent"}
                async with http.post(f"{base}/v1/cases", json=case) as r:
                    assert r.status == 201, await r.text()
                _, account_id = await active_carer(
                    portal, f"parent{i}@example.org", user.id, ref=ref,
                    child=(f"Child{i}", "Jones", date(2016, 5, 4)), parent=(f"Parent{i}", "Jones"),
                )
                families.append(Family(user, account_id, ref))
        return token, families
    finally:
        await portal.close()


