"""`make test-postgres`: the test suite again on a throwaway PostgreSQL server, with Redis.

Starts Debian's PostgreSQL (`apt-get install postgresql`; the binaries under
/usr/lib/postgresql/<version>/bin, or EHCP_PG_BIN) as a fresh cluster in a temporary folder,
listening on 127.0.0.1 on a free port only, with durability switched off (it is thrown away);
runs pytest with EHCP_TEST_DATABASE_URL pointing at it (each test makes and drops a database of
its own: tests/conftest.py) and EHCP_TEST_REDIS_URL at a throwaway Redis (tests/redis_server.py);
stops both and removes their folders, whatever happened.

    python -m tests.postgres_server [pytest arguments]
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def pg_bin() -> Path:
    if os.environ.get("EHCP_PG_BIN"):
        return Path(os.environ["EHCP_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        sys.exit("PostgreSQL is not installed: apt-get install postgresql (or set EHCP_PG_BIN)")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """A PostgreSQL server for the length of the block: its SQLAlchemy URL."""
    bindir = pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="ehcp-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL will not run as root: Debian's package made its own user
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=300")
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                        "-E", "UTF8", "--no-instructions"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                        str(folder / "server.log"), "-w", "start"], check=True, stdout=subprocess.DEVNULL)
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    from tests.redis_server import throwaway_redis

    with throwaway_server() as url, throwaway_redis() as redis_url:
        print(f"== the tests on PostgreSQL ({url}) with Redis ({redis_url})", flush=True)
        env = {**os.environ, "EHCP_TEST_DATABASE_URL": url, "EHCP_TEST_REDIS_URL": redis_url}
        return subprocess.run([sys.executable, "-m", "pytest", "-q", *argv], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
