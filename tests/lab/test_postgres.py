"""Tests of the PostgreSQL lab fixtures: a real server, a fresh database per test, loopback only.

Needs the Debian package postgresql (see lab/postgres.py).
"""

import socket

import psycopg
import pytest

from lab import postgres
from lab.daemons import LabStartError

pytestmark = pytest.mark.lab

# Databases handed to the isolation tests so far, to show the next test gets another, new one.
SEEN_DATABASES = []


def test_rows_round_trip(postgresql_dsn):
    with psycopg.connect(postgresql_dsn) as connection:
        connection.execute("CREATE TABLE notification (peer text NOT NULL, message text NOT NULL)")
        connection.execute("INSERT INTO notification VALUES (%s, %s)", ("192.0.2.1", "unsolicited connect"))
        rows = connection.execute("SELECT peer, message FROM notification").fetchall()

    assert rows == [("192.0.2.1", "unsolicited connect")]


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_gets_its_own_empty_database(postgresql_dsn, turn):
    with psycopg.connect(postgresql_dsn, autocommit=True) as connection:
        name, tables, leftovers = connection.execute(
            "SELECT current_database(),"
            " (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'),"
            " (SELECT count(*) FROM pg_database WHERE datname = ANY(%s))",
            (SEEN_DATABASES,),
        ).fetchone()
        connection.execute("CREATE TABLE marker (turn text)")
        connection.execute("INSERT INTO marker VALUES (%s)", (turn,))

    assert name not in SEEN_DATABASES
    assert tables == 0
    assert leftovers == 0, "databases of earlier tests are dropped"
    SEEN_DATABASES.append(name)


def test_a_rolled_back_transaction_leaves_no_row(postgresql_dsn):
    with psycopg.connect(postgresql_dsn) as connection:
        connection.execute("CREATE TABLE notification (peer text)")
        connection.commit()
        connection.execute("INSERT INTO notification VALUES ('192.0.2.1')")
        connection.rollback()

    with psycopg.connect(postgresql_dsn) as connection:
        assert connection.execute("SELECT count(*) FROM notification").fetchone() == (0,)


def test_the_server_listens_on_127_0_0_1_and_its_own_socket_only(postgresql_server, postgresql_dsn):
    port = postgresql_server.port
    assert postgresql_dsn.startswith(f"postgresql://postgres@127.0.0.1:{port}/")
    with psycopg.connect(postgresql_dsn) as connection:
        assert connection.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert connection.execute("SELECT host(inet_server_addr()), inet_server_port()").fetchone() == (
            "127.0.0.1",
            port,
        )
    dbname = postgresql_dsn.rsplit("/", 1)[1]
    unix_dsn = f"host={postgresql_server.socket_dir} port={port} user=postgres dbname={dbname}"
    with psycopg.connect(unix_dsn) as connection:
        assert connection.execute("SELECT inet_server_addr()").fetchone() == (None,)

    # All of 127/8 is local on Linux: a wildcard or 127.0.0.0/8 listener would accept here.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=2).close()
    with pytest.raises(OSError):  # refused, or no IPv6 at all
        socket.create_connection(("::1", port), timeout=2).close()


def test_a_port_in_use_is_named(postgresql_server):
    port = postgresql_server.port
    with pytest.raises(LabStartError, match=rf"127\.0\.0\.1:{port} .*port in use"):
        with postgres.start_postgresql_server(port=port):
            pytest.fail("a second server started on a port in use")


def test_missing_binaries_name_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres, "POSTGRESQL_LIB_DIR", tmp_path)
    with pytest.raises(LabStartError, match=r"`apt-get install -y postgresql`"), postgres.start_postgresql_server():
        pytest.fail("started without binaries")
