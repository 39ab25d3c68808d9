# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The memory of notify_peers: whom it wrote to, when, about what, and every message it meant to send.

SQLite (a file: the default) or PostgreSQL (a DSN: for AWX, where each job runs in a fresh
container). One SQL text serves both; only the placeholder differs.

    networks: one row per (ASN, exchange): first/last notified, how often, the addresses told
              about, when last seen knocking, and a state (active, resolved, stopped).
    messages: one row per Message-ID: an intent recorded before sending, marked sent once the
              server accepted it, or failed with the server's answer. The rendered message is
              kept, so a retry sends the very same bytes under the same Message-ID.
    suppressed: ASNs never to write to (notify_peers action=suppress; unsuppress removes them).

One run at a time: lock() takes an advisory lock (SQLite: fcntl.flock on "<file>.lock" beside the
file; PostgreSQL: pg_try_advisory_lock on the run's connection, held until it closes), waiting up
to a timeout, so two AWX slices or cron runs cannot both decide to write to the same network.
Read-only (check mode): SQLite is copied into memory from a read-only open (immutable, so that
no -shm is made, unless a -wal holds data); PostgreSQL runs in one transaction that is rolled back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import sqlite3
import time

try:
    import psycopg
    HAS_PSYCOPG = True
except ImportError:  # pragma: no cover - only needed for a PostgreSQL store
    HAS_PSYCOPG = False

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS peerwarden_networks (
        asn BIGINT NOT NULL,
        exchange TEXT NOT NULL,
        first_notified TEXT,
        last_notified TEXT,
        notifications INTEGER NOT NULL DEFAULT 0,
        escalated INTEGER NOT NULL DEFAULT 0,
        addresses TEXT NOT NULL DEFAULT '[]',
        last_seen TEXT,
        state TEXT NOT NULL DEFAULT 'active',
        PRIMARY KEY (asn, exchange))""",
    """CREATE TABLE IF NOT EXISTS peerwarden_messages (
        message_id TEXT PRIMARY KEY,
        asn BIGINT NOT NULL,
        created TEXT NOT NULL,
        status TEXT NOT NULL,
        recipients TEXT NOT NULL,
        exchanges TEXT NOT NULL,
        addresses TEXT NOT NULL,
        escalation INTEGER NOT NULL DEFAULT 0,
        raw TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        sent_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS peerwarden_suppressed (
        asn BIGINT PRIMARY KEY,
        since TEXT NOT NULL)""",
)
LOCK_KEY = 0x70656572776172  # pg_advisory_lock key of notify_peers runs ("peerwar")
LOCK_POLL = 0.25
NETWORK_COLUMNS = ("asn", "exchange", "first_notified", "last_notified", "notifications", "escalated", "addresses",
                   "last_seen", "state")
MESSAGE_COLUMNS = ("message_id", "asn", "created", "status", "recipients", "exchanges", "addresses", "escalation",
                   "raw", "attempts", "error", "sent_at")


def open_store(location, read_only=False):
    """A PostgreSQL DSN (postgresql://...) or a path to an SQLite file (made with its directory).
    read_only: nothing reaches the store, whatever is done with it (check mode)."""
    if str(location).startswith(("postgresql://", "postgres://")):
        if not HAS_PSYCOPG:
            raise ValueError("a PostgreSQL store needs psycopg on the controller (pip install 'psycopg[binary]')")
        try:
            connection = psycopg.connect(location, connect_timeout=10)
        except psycopg.Error as error:
            raise ValueError("cannot open the PostgreSQL store: %s" % str(error).strip().splitlines()[0])
        return Store(connection, "%s", read_only=read_only, where="the PostgreSQL store")
    path = os.path.expanduser(str(location))
    if read_only:
        return Store(_memory_copy(path), "?", where="a copy of %s" % path)
    directory = os.path.dirname(path)
    try:
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
    except (sqlite3.Error, OSError) as error:
        raise ValueError("cannot open the SQLite store %s: %s" % (path, error))
    return Store(connection, "?", lock_path=path + ".lock", where="the SQLite store %s" % path)


def _memory_copy(path):
    """The SQLite file's content in memory (an empty memory when there is no file yet)."""
    memory = sqlite3.connect(":memory:", isolation_level=None)
    if os.path.exists(path):
        # immutable: no lock, no -shm; but a -wal left by a run that died holds data the file lacks
        mode = "mode=ro" if os.path.exists(path + "-wal") else "mode=ro&immutable=1"
        try:
            source = sqlite3.connect("file:%s?%s" % (path, mode), uri=True)
            source.backup(memory)
            source.close()
        except sqlite3.Error as error:
            raise ValueError("cannot read the SQLite store %s: %s" % (path, error))
    return memory


class Store:
    def __init__(self, connection, placeholder, read_only=False, lock_path=None, where="the store"):
        self.connection = connection
        self.placeholder = placeholder
        self.read_only = read_only
        self.lock_path, self.lock_file, self.where = lock_path, None, where
        with self.transaction() as cursor:
            for statement in SCHEMA:
                cursor.execute(statement)

    def close(self):
        if self.read_only:
            self.connection.rollback()
        self.connection.close()  # PostgreSQL: ends the session, and with it the advisory lock
        if self.lock_file is not None:
            self.lock_file.close()  # releases the flock
            self.lock_file = None

    def transaction(self):
        return _Transaction(self.connection, self.placeholder == "?", self.read_only)

    def lock(self, timeout):
        """Wait up to `timeout` seconds for the run lock; ValueError naming the store if it stays taken."""
        deadline = time.monotonic() + max(0, timeout)
        while not self._try_lock():
            if time.monotonic() >= deadline:
                raise ValueError("another notify_peers run holds the lock of %s (waited %ds, lock_timeout): "
                                 "runs must not overlap, or two of them could write to the same network"
                                 % (self.where, timeout))
            time.sleep(LOCK_POLL)

    def _try_lock(self):
        if self.lock_path is None:
            with self.transaction() as cursor:  # a session lock: it outlives this transaction
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
                return bool(cursor.fetchone()[0])
        if self.lock_file is None:
            try:
                self.lock_file = open(self.lock_path, "a")
            except OSError as error:
                raise ValueError("cannot open the lock file %s: %s" % (self.lock_path, error.strerror))
        try:
            fcntl.flock(self.lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    # -- suppression and forgetting, per ASN -----------------------------------------------------

    def suppressed(self):
        """{asn: since} of the networks never to write to."""
        with self.transaction() as cursor:
            cursor.execute("SELECT asn, since FROM peerwarden_suppressed")
            return dict(cursor.fetchall())

    def suppress(self, asn, since):
        """True when the ASN was not suppressed before."""
        with self.transaction() as cursor:
            cursor.execute(self._sql("INSERT INTO peerwarden_suppressed (asn, since) VALUES (%s, %s) "
                                     "ON CONFLICT (asn) DO NOTHING"), (asn, since))
            return cursor.rowcount > 0

    def unsuppress(self, asn):
        with self.transaction() as cursor:
            cursor.execute(self._sql("DELETE FROM peerwarden_suppressed WHERE asn = %s"), (asn,))
            return cursor.rowcount > 0

    def forget(self, asn):
        """Everything known of a network (notifications, refusals, unsent intents): it starts afresh.
        True when there was something to forget."""
        removed = 0
        with self.transaction() as cursor:
            for table in ("peerwarden_networks", "peerwarden_messages"):
                cursor.execute(self._sql("DELETE FROM %s WHERE asn = %%s" % table), (asn,))
                removed += cursor.rowcount
        return removed > 0

    def _sql(self, text):
        return text.replace("%s", self.placeholder)

    def _rows(self, sql, args, columns):
        with self.transaction() as cursor:
            cursor.execute(self._sql(sql), args)
            return [dict(zip(columns, row)) for row in cursor.fetchall()]

    # -- networks ------------------------------------------------------------------------------

    def networks(self, asn=None):
        sql = "SELECT %s FROM peerwarden_networks" % ", ".join(NETWORK_COLUMNS)
        rows = self._rows(sql + (" WHERE asn = %s" if asn is not None else "") + " ORDER BY asn, exchange",
                          (asn,) if asn is not None else (), NETWORK_COLUMNS)
        for row in rows:
            row["addresses"] = json.loads(row["addresses"])
        return rows

    def saw(self, asn, exchange, last_seen):
        """Note that a network knocked at an exchange (reopening it if it was resolved)."""
        with self.transaction() as cursor:
            cursor.execute(self._sql(
                "INSERT INTO peerwarden_networks (asn, exchange, last_seen) VALUES (%s, %s, %s) "
                "ON CONFLICT (asn, exchange) DO UPDATE SET last_seen = excluded.last_seen, "
                "state = CASE WHEN peerwarden_networks.state = 'resolved' THEN 'active' "
                "ELSE peerwarden_networks.state END"), (asn, exchange, last_seen))

    def _notified(self, cursor, asn, exchanges, addresses, when, escalation):
        for exchange in exchanges:
            cursor.execute(self._sql(
                "SELECT addresses FROM peerwarden_networks WHERE asn = %s AND exchange = %s"), (asn, exchange))
            row = cursor.fetchone()
            known = set(json.loads(row[0])) if row else set()
            merged = json.dumps(sorted(known | set(addresses)))
            cursor.execute(self._sql(
                "INSERT INTO peerwarden_networks (asn, exchange, first_notified, last_notified, notifications, "
                "escalated, addresses, state) VALUES (%s, %s, %s, %s, 1, %s, %s, 'active') "
                "ON CONFLICT (asn, exchange) DO UPDATE SET "
                "first_notified = COALESCE(peerwarden_networks.first_notified, excluded.first_notified), "
                "last_notified = excluded.last_notified, "
                "notifications = peerwarden_networks.notifications + 1, "
                "escalated = peerwarden_networks.escalated + excluded.escalated, "
                "addresses = excluded.addresses, state = 'active'"),
                (asn, exchange, when, when, 1 if escalation else 0, merged))

    def set_state(self, asn, exchange, state):
        with self.transaction() as cursor:
            cursor.execute(self._sql("UPDATE peerwarden_networks SET state = %s WHERE asn = %s AND exchange = %s"),
                           (state, asn, exchange))

    # -- messages ------------------------------------------------------------------------------

    def record_intent(self, message_id, asn, created, recipients, exchanges, addresses, escalation, raw):
        with self.transaction() as cursor:
            cursor.execute(self._sql(
                "INSERT INTO peerwarden_messages (message_id, asn, created, status, recipients, exchanges, addresses, "
                "escalation, raw) VALUES (%s, %s, %s, 'intent', %s, %s, %s, %s, %s)"),
                (message_id, asn, created, json.dumps(recipients), json.dumps(exchanges), json.dumps(addresses),
                 1 if escalation else 0, raw))

    def pending(self):
        """Intents without a confirmed send, oldest first: they are retried before anything new."""
        rows = self._rows("SELECT %s FROM peerwarden_messages WHERE status = 'intent' ORDER BY created, message_id"
                          % ", ".join(MESSAGE_COLUMNS), (), MESSAGE_COLUMNS)
        for row in rows:
            for field in ("recipients", "exchanges", "addresses"):
                row[field] = json.loads(row[field])
        return rows

    def messages(self, asn=None):
        sql = "SELECT %s FROM peerwarden_messages" % ", ".join(MESSAGE_COLUMNS)
        return self._rows(sql + (" WHERE asn = %s" if asn is not None else "") + " ORDER BY created, message_id",
                          (asn,) if asn is not None else (), MESSAGE_COLUMNS)

    def attempted(self, message_id, error):
        with self.transaction() as cursor:
            cursor.execute(self._sql(
                "UPDATE peerwarden_messages SET attempts = attempts + 1, error = %s WHERE message_id = %s"),
                (error, message_id))

    def sent(self, message_id, when, asn, exchanges, addresses, escalation):
        """The server accepted the message: one transaction marks it and counts the notification."""
        with self.transaction() as cursor:
            cursor.execute(self._sql(
                "UPDATE peerwarden_messages SET status = 'sent', sent_at = %s, attempts = attempts + 1, error = NULL "
                "WHERE message_id = %s"), (when, message_id))
            self._notified(cursor, asn, exchanges, addresses, when, escalation)

    def failed(self, message_id, error):
        with self.transaction() as cursor:
            cursor.execute(self._sql(
                "UPDATE peerwarden_messages SET status = 'failed', attempts = attempts + 1, error = %s "
                "WHERE message_id = %s"), (error, message_id))


class _Transaction:
    """BEGIN ... COMMIT around a cursor, ROLLBACK on error; the same for sqlite3 and psycopg."""

    def __init__(self, connection, sqlite, read_only=False):
        self.connection, self.sqlite, self.read_only = connection, sqlite, read_only

    def __enter__(self):
        self.cursor = self.connection.cursor()
        if self.sqlite:
            self.cursor.execute("BEGIN IMMEDIATE")
        return self.cursor

    def __exit__(self, kind, value, traceback):
        if kind is None and not self.read_only:
            self.connection.commit()  # read-only: one transaction for the run, rolled back at close
        elif kind is not None:
            self.connection.rollback()
        self.cursor.close()
        return False
