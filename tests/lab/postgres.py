"""A throwaway PostgreSQL server on loopback, as pytest fixtures, for the PostgreSQL notification store.

The notification store runs on SQLite or PostgreSQL. Its PostgreSQL side is tested against a real
server, so SQL dialect, types, transactions and connection strings are checked by PostgreSQL itself.

- ``postgresql_server``: session fixture, one server for the whole test session (initdb takes
  seconds). ``.host`` ("127.0.0.1"), ``.port``, ``.user`` ("postgres"), ``.dsn_for(dbname)``,
  ``.create_database(name)``, ``.drop_database(name)``; ``.socket_dir``, ``.data_dir`` and
  ``.log_path`` for tests that need them.
- ``postgresql_dsn``: function fixture, a fresh empty database for each test, dropped after it, so
  tests never see each other's rows. Its value is a libpq URI,
  ``postgresql://postgres@127.0.0.1:PORT/NAME``.
- ``start_postgresql_server(port=None)``: the context manager behind ``postgresql_server``.

Install: ``apt-get install -y postgresql`` (Debian; the server binaries land in
/usr/lib/postgresql/<major>/bin, and the newest installed major version is used). The packaged
cluster, if any, is neither used nor touched.

Root: initdb and postgres refuse to run as root, so as root they run as the ``postgres`` system user
(created by the Debian package) through runuser; as any other user they run as that user.

Safety: the server listens on 127.0.0.1 at a free port and on a Unix socket in its own temporary
directory (mode 0700), nowhere else; that is what makes ``trust`` authentication acceptable. Teardown
stops this server only (``pg_ctl stop`` on its own data directory) and removes the directory. The
data is disposable, so fsync is off: tests do not wait on the disk.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from lab.daemons import LabStartError, free_port

POSTGRESQL_LIB_DIR = Path("/usr/lib/postgresql")
PACKAGE = "postgresql"
RUNUSER = "/usr/sbin/runuser"
SYSTEM_USER = "postgres"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
MAINTENANCE_DATABASE = "postgres"

START_TIMEOUT = 30
COMMAND_TIMEOUT = 60
LOG_TAIL_LINES = 20

# Appended to the new cluster's postgresql.conf (later lines win). Durability settings are off
# because the data dies with the test session.
SERVER_SETTINGS = """
listen_addresses = '{host}'
port = {port}
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
"""


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server; ``user`` is its superuser, trusted without a password."""

    host: str
    port: int
    user: str
    socket_dir: Path
    data_dir: Path
    log_path: Path

    def dsn_for(self, dbname: str) -> str:
        """libpq URI for ``dbname`` over TCP, the form the collection's users configure."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{quote(dbname, safe='')}"

    def create_database(self, name: str) -> None:
        """Create an empty database ``name`` (a copy of template1)."""
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists; FORCE ends sessions a test left open, so teardown cannot hang on them."""
        self._execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _execute(self, statement: sql.Composable) -> None:
        """Run one statement from the maintenance database, in autocommit: CREATE/DROP DATABASE refuse
        to run inside a transaction."""
        with psycopg.connect(self.dsn_for(MAINTENANCE_DATABASE), autocommit=True) as connection:
            connection.execute(statement)


@contextlib.contextmanager
def start_postgresql_server(port: int | None = None) -> Iterator[PostgresServer]:
    """Create a cluster in a new temporary directory, start it on 127.0.0.1:``port`` (a free one by
    default), and on exit stop it and delete the directory.

    Raises LabStartError naming the cause: missing binaries (with the Debian package to install), a
    port in use, or a server that would not start (with the end of its log).
    """
    bin_dir = _find_bin_dir()
    run_as = _server_command_prefix()
    if port is None:
        port = free_port(HOST)
    else:
        _check_port_free(port)
    with contextlib.ExitStack() as cleanup:
        run_dir = Path(tempfile.mkdtemp(prefix="peerwarden-postgres-"))
        cleanup.callback(shutil.rmtree, run_dir, ignore_errors=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam(SYSTEM_USER)
            os.chown(run_dir, account.pw_uid, account.pw_gid)
        server = PostgresServer(
            host=HOST,
            port=port,
            user=SUPERUSER,
            socket_dir=run_dir,
            data_dir=run_dir / "data",
            log_path=run_dir / "postgres.log",
        )
        _initdb(run_as, bin_dir, server)
        cleanup.callback(_stop_server, run_as, bin_dir, server)
        _start_server(run_as, bin_dir, server)
        yield server


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session; tests isolate themselves with ``postgresql_dsn``."""
    with start_postgresql_server() as server:
        yield server


@pytest.fixture
def postgresql_dsn(postgresql_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """DSN of a new empty database for this test only, dropped afterwards.

    The name starts with the test's name, so the server log shows which test did what; a random
    suffix keeps it unique across repeated and parallel runs.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"{slug}_{secrets.token_hex(4)}"
    postgresql_server.create_database(name)
    try:
        yield postgresql_server.dsn_for(name)
    finally:
        postgresql_server.drop_database(name)


# ------------------------------------------------------------------------------- plumbing


def _find_bin_dir() -> Path:
    """The bin directory of the newest installed major version: Debian installs them side by side."""
    candidates = [
        version_dir / "bin"
        for version_dir in (POSTGRESQL_LIB_DIR.iterdir() if POSTGRESQL_LIB_DIR.is_dir() else [])
        if version_dir.name.isdigit()
        and all(os.access(version_dir / "bin" / program, os.X_OK) for program in ("initdb", "pg_ctl"))
    ]
    if not candidates:
        raise LabStartError(
            f"PostgreSQL server binaries (initdb, pg_ctl) not found in {POSTGRESQL_LIB_DIR}/<major>/bin: "
            f"install them with `apt-get install -y {PACKAGE}`"
        )
    return max(candidates, key=lambda path: int(path.parent.name))


def _server_command_prefix() -> list[str]:
    """What to put before initdb/pg_ctl: runuser to the postgres account as root, nothing otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError as error:
        raise LabStartError(
            f"running as root, and initdb/postgres refuse root, but there is no `{SYSTEM_USER}` user to run "
            f"them as: install the Debian package, which creates it: `apt-get install -y {PACKAGE}`"
        ) from error
    return [RUNUSER, "-u", SYSTEM_USER, "--"]


def _check_port_free(port: int) -> None:
    """Fail before initdb, naming the port, if something listens there.

    SO_REUSEADDR as postgres sets it, so only a listening socket counts, not TIME_WAIT leftovers.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise LabStartError(f"cannot use {HOST}:{port} for PostgreSQL: port in use ({error.strerror})") from error


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a server tool in ``cwd`` (the postgres account may not be able to enter the caller's)."""
    return subprocess.run(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _initdb(run_as: list[str], bin_dir: Path, server: PostgresServer) -> None:
    """Create the cluster and append SERVER_SETTINGS to its postgresql.conf.

    Trust auth (see the module docstring); C locale and UTF-8 so results do not depend on the
    host's locale; no fsync because the data is disposable.
    """
    argv = [
        *run_as, str(bin_dir / "initdb"), "-D", str(server.data_dir), "-A", "trust", "-U", server.user,
        "-E", "UTF8", "--locale=C", "--no-sync",
    ]  # fmt: skip
    result = _run(argv, server.socket_dir)
    if result.returncode != 0:
        raise LabStartError(
            f"initdb exited with code {result.returncode}\ncommand: {' '.join(argv)}\n{result.stdout}{result.stderr}"
        )
    quoted_socket_dir = str(server.socket_dir).replace("'", "''")
    settings = SERVER_SETTINGS.format(host=HOST, port=server.port, socket_dir=quoted_socket_dir)
    with open(server.data_dir / "postgresql.conf", "a", encoding="utf-8") as config:
        config.write(settings)


def _start_server(run_as: list[str], bin_dir: Path, server: PostgresServer) -> None:
    """``pg_ctl start -w``: returns once the server accepts connections, or raises with its log."""
    argv = [
        *run_as, str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(server.log_path),
        "-w", "-t", str(START_TIMEOUT), "start",
    ]  # fmt: skip
    result = _run(argv, server.socket_dir)
    if result.returncode == 0:
        return
    log = _tail(server.log_path)
    reason = f"exited with code {result.returncode}"
    if "Address already in use" in log:
        reason += f": port {server.port} on {HOST} is in use"
    raise LabStartError(
        f"PostgreSQL did not start: pg_ctl {reason}\ncommand: {' '.join(argv)}\n"
        f"{result.stdout}{result.stderr}--- end of {server.log_path}:\n{log}"
    )


def _stop_server(run_as: list[str], bin_dir: Path, server: PostgresServer) -> None:
    """Stop this server by its data directory (fast: rolls back open sessions), if it is running."""
    if not (server.data_dir / "postmaster.pid").exists():
        return
    argv = [*run_as, str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-m", "fast", "-w", "stop"]
    result = _run(argv, server.socket_dir)
    if result.returncode != 0:
        raise RuntimeError(
            f"pg_ctl stop exited with code {result.returncode}\ncommand: {' '.join(argv)}\n"
            f"{result.stdout}{result.stderr}--- end of {server.log_path}:\n{_tail(server.log_path)}"
        )


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:]) or f"({path} is empty)"
