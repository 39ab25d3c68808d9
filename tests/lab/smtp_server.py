"""A local SMTP server with TLS, AUTH and fault injection (aiosmtpd), as a pytest fixture.

The collection emails peering contacts with smtplib: ``SMTP`` + ``starttls()`` or ``SMTP_SSL``,
certificate verification against a CA file, ``login()``, ``send_message()``.  Its error handling
can only be trusted against a real server that fails the way mail servers fail: a refused
recipient, a rejected message, a connection cut in the middle of DATA, a message accepted just
before the connection died, an answer too slow for the client's timeout, nothing listening.
``SmtpServer`` is aiosmtpd's SMTP protocol with those failures added, listening on 127.0.0.1 only.

- ``smtp_server``: pytest fixture, a factory ``smtp_server(tls="starttls", users=None)`` that
  starts one server per call and stops them all at teardown.
- ``closed_port()``: a port of 127.0.0.1 with nothing listening (a mail server that is down).

What the server does, like a submission server (Postfix with ``smtpd_tls_auth_only``):

- ``tls="starttls"``: a plain port that offers STARTTLS.  MAIL before STARTTLS is answered
  ``530 5.7.0 Must issue a STARTTLS command first``, and AUTH is neither advertised nor accepted
  before it (smtplib's ``login()`` raises ``SMTPNotSupportedError``).  ``tls="implicit"``: TLS
  from the first byte, like port 465.  ``tls=None``: plain text only, AUTH allowed in the clear.
- The certificate is for "localhost" and "127.0.0.1", issued by a trustme CA made for each server;
  clients trust ``server.ca_file`` (``ssl.create_default_context(cafile=server.ca_file)``).
- ``users`` (username -> password): AUTH PLAIN and LOGIN are offered, wrong credentials get 535,
  and MAIL before AUTH gets ``530 5.7.0 Authentication required``.  Without ``users`` the server
  offers no AUTH at all and takes mail from anyone.
- ``server.messages``: every accepted message (``ReceivedMessage``: envelope, raw bytes, parsed
  ``EmailMessage``); ``server.sessions``: one ``SmtpSession`` per connection with the commands
  it received (AUTH without its credentials), whether it ended encrypted and who logged in.

Faults can be armed at any time, from any thread, and apply to the next matching commands; what
smtplib's ``send_message`` then does:

==========================  ===================================================================
``reject_mail``             our sender refused at MAIL FROM (a relay that does not relay for us):
                            ``SMTPSenderRefused``; nothing is stored
``reject_rcpt``             one refused recipient: ``send_message`` returns ``{address: (code,
                            message)}`` and the others get the message; every recipient refused:
                            ``SMTPRecipientsRefused``
``reject_data``             ``SMTPDataError`` with the code (nothing stored); a 421 also closes
                            the connection, as RFC 5321 says
``drop_during_data``        ``SMTPServerDisconnected`` (nothing stored)
``accept_then_drop``        ``send_message`` returns normally and the message is stored; the
                            client's ``quit()`` raises ``SMTPServerDisconnected``, while leaving a
                            ``with smtplib.SMTP(...)`` block hides the drop (smtplib ignores it)
``hold_data`` longer than   ``SMTPServerDisconnected("Connection unexpectedly closed: timed
the client's timeout        out")``, yet the message IS stored: the server committed it before
                            answering, the classic cause of duplicates when a client retries
``stop()``/``closed_port``  ``ConnectionRefusedError`` from the ``smtplib.SMTP`` constructor
==========================  ===================================================================
"""

from __future__ import annotations

import asyncio
import enum
import fnmatch
import logging
import os
import shutil
import socket
import ssl
import tempfile
import threading
import weakref
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, NamedTuple

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session, TLSSetupException

_LOG = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
#: The name the server gives itself in its greeting, and the certificate's DNS name.
SERVER_NAME = "localhost"
TLS_MODES = ("starttls", "implicit", None)

#: Replies with enhanced status codes in the style of Postfix, so client logs look familiar.
_RCPT_TEMPORARY_TEXT = "4.7.1 <{address}>: Recipient address rejected: Try again later"
_RCPT_PERMANENT_TEXT = "5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"
_DATA_TEMPORARY_TEXT = "4.3.0 Error: queue file write error"
_DATA_PERMANENT_TEXT = "5.7.1 Message content rejected"
_MAIL_PERMANENT_TEXT = "5.7.1 <{address}>: Sender address rejected: not owned by user"
_SERVICE_CLOSING = 421


class _WithoutLoginDataNotice(logging.Filter):
    """aiosmtpd 1.4 logs "Session.login_data is deprecated" at every successful AUTH, from its own
    code; in a failing test's captured log the warning would only mislead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_WithoutLoginDataNotice())


class ReceivedMessage(NamedTuple):
    """A message the server accepted: its envelope, the bytes after DATA (CRLF line ends, dots
    unstuffed) and those bytes parsed with the modern email policy, so headers come back decoded."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> ReceivedMessage:
        raw = envelope.original_content
        return cls(envelope.mail_from, list(envelope.rcpt_tos), raw, BytesParser(policy=policy.default).parsebytes(raw))


@dataclass
class SmtpSession:
    """One client connection: the commands the server received, in order ("EHLO name",
    "STARTTLS", "AUTH PLAIN", "MAIL FROM:<a@example.org>", ...; AUTH keeps only its mechanism,
    never credentials), whether the connection was encrypted at its end, and the user who
    logged in (None if nobody did)."""

    commands: list[str] = field(default_factory=list)
    tls: bool = False
    user: str | None = None


# --- Faults ----------------------------------------------------------------------------------


class _DataFault(enum.Enum):
    """The faults armed for a number of messages: at MAIL FROM, or on a message after DATA."""

    REJECT = "reject"
    REJECT_MAIL = "reject mail"
    DROP_DURING = "drop during"
    DROP_AFTER_ACCEPT = "drop after accept"
    HOLD = "hold"


@dataclass
class _RcptRule:
    """Refuse recipients matching ``pattern`` (shell-style, case-insensitive) ``remaining`` more
    times, or always when ``remaining`` is None."""

    pattern: str
    code: int
    text: str | None
    remaining: int | None

    def reply(self, address: str) -> str:
        default = _RCPT_TEMPORARY_TEXT if self.code < 500 else _RCPT_PERMANENT_TEXT
        return f"{self.code} {self.text or default.format(address=address)}"


class _FaultPlan:
    """The faults armed on one server.  Tests arm them from their thread while the server's event
    loop takes them from its own, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rcpt_rules: list[_RcptRule] = []
        self._data_faults: defaultdict[_DataFault, deque[Any]] = defaultdict(deque)

    def add_rcpt_rule(self, rule: _RcptRule) -> None:
        with self._lock:
            self._rcpt_rules.append(rule)

    def rcpt_reply(self, address: str) -> str | None:
        """The refusal for ``address`` from the first matching rule (using up one of its times),
        or None to accept it."""
        with self._lock:
            for rule in self._rcpt_rules:
                if fnmatch.fnmatch(address.lower(), rule.pattern.lower()):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rcpt_rules.remove(rule)
                    return rule.reply(address)
        return None

    def arm(self, fault: _DataFault, value: Any, times: int) -> None:
        """Apply ``fault`` with ``value`` (a reply, a delay, or True) to the next ``times`` messages."""
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        with self._lock:
            self._data_faults[fault].extend([value] * times)

    def take(self, fault: _DataFault) -> Any:
        """The value of the next armed ``fault``, used up; None when it is not armed."""
        with self._lock:
            armed = self._data_faults[fault]
            return armed.popleft() if armed else None

    def clear(self) -> None:
        with self._lock:
            self._rcpt_rules.clear()
            self._data_faults.clear()


def _failure_code(code: int) -> int:
    if not 400 <= code <= 599:
        raise ValueError(f"a refusal needs a 4xx or 5xx code, not {code}")
    return code


# --- The SMTP protocol and its hooks ---------------------------------------------------------


class _LabSMTP(SMTP):
    """aiosmtpd's SMTP protocol for one connection: logs each command into an ``SmtpSession`` and
    carries out the faults that need the connection itself (closing it)."""

    def __init__(self, handler: _Hooks, faults: _FaultPlan, record: SmtpSession, **smtp_options: Any) -> None:
        super().__init__(handler, **smtp_options)
        self.faults = faults
        self.record = record
        #: Set by a hook whose reply must be the last thing the client hears on this connection.
        self.close_after_reply = False
        # aiosmtpd dispatches each command line through this table; wrapping it is the one place
        # that sees every command, including those refused before any hook runs.
        self._smtp_methods = {verb: self._logged(verb, method) for verb, method in self._smtp_methods.items()}

    @property
    def encrypted(self) -> bool:
        """Whether the connection runs over TLS now (implicit TLS, or after STARTTLS)."""
        return self.transport is not None and self.transport.get_extra_info("ssl_object") is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Called when the client connects and again, with the TLS transport, after STARTTLS."""
        super().connection_made(transport)
        self.record.tls = self.encrypted

    def _logged(self, verb: str, method: Callable[[str | None], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """``method`` (the handler of ``verb``), logging the command first and closing the connection
        after the reply when a hook asked for it."""

        async def run_command(arg: str | None) -> None:
            # The initial response of AUTH PLAIN/LOGIN carries credentials: keep the mechanism only.
            shown = arg.split()[0] if verb == "AUTH" and arg else arg
            self.record.commands.append(f"{verb} {shown}" if shown else verb)
            await method(arg)
            if self.close_after_reply and self.transport is not None:
                self.transport.abort()

        return run_command

    async def smtp_DATA(self, arg: str) -> None:  # pylint: disable=invalid-name  # the name aiosmtpd dispatches to
        """DATA, or with ``drop_during_data`` armed: invite the message, wait for its first bytes,
        then cut the connection.  Only a DATA the server would accept (it has recipients) uses
        up the fault."""
        assert self.envelope is not None
        if self.envelope.rcpt_tos and not arg and self.faults.take(_DataFault.DROP_DURING):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.read(self.line_length_limit)
            assert self.transport is not None
            self.transport.abort()
            return
        await super().smtp_DATA(arg)


class _Hooks:
    """The aiosmtpd handler of one server: who may send (STARTTLS, AUTH), the RCPT and DATA faults,
    and storing accepted messages into ``server.messages``."""

    def __init__(self, server: SmtpServer, faults: _FaultPlan) -> None:
        self.server = server
        self.faults = faults

    def authenticate(
        self, smtp: _LabSMTP, session: Session, envelope: Envelope, mechanism: str, credentials: LoginPassword
    ) -> AuthResult:
        """aiosmtpd's authenticator for AUTH PLAIN and LOGIN: check against ``server.users``."""
        del session, envelope, mechanism  # the same check for every mechanism
        users = self.server.users or {}
        username = credentials.login.decode("utf-8", "replace")
        if users.get(username) != credentials.password.decode("utf-8", "replace"):
            return AuthResult(success=False, handled=False)
        smtp.record.user = username
        return AuthResult(success=True, auth_data=credentials)

    async def handle_exception(self, error: Exception) -> str:
        """A client refusing the certificate is an outcome tests provoke: one line instead of
        aiosmtpd's traceback (it then closes the connection).  Anything else is a bug, logged in
        full and answered as aiosmtpd would."""
        if isinstance(error, TLSSetupException):
            _LOG.warning("STARTTLS handshake failed: %s", error.__cause__)
        else:
            _LOG.exception("SMTP session exception")
        return f"500 Error: ({type(error).__name__}) {error}"

    async def handle_EHLO(  # pylint: disable=invalid-name  # the names aiosmtpd looks up
        self, smtp: _LabSMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """The EHLO reply, without AUTH when there are no users (with every mechanism excluded,
        aiosmtpd still announces an empty "AUTH")."""
        del smtp, envelope
        session.host_name = hostname  # aiosmtpd leaves this to the hook once there is one
        if self.server.users is None:
            return [line for line in responses if not line.startswith("250-AUTH")]
        return responses

    async def handle_MAIL(  # pylint: disable=invalid-name
        self, smtp: _LabSMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.server.tls == "starttls" and not smtp.encrypted:
            return "530 5.7.0 Must issue a STARTTLS command first"
        if self.server.users is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        refusal = self.faults.take(_DataFault.REJECT_MAIL)
        if refusal is not None:
            return refusal.format(address=address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(  # pylint: disable=invalid-name
        self, smtp: _LabSMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        del session
        refusal = self.faults.rcpt_reply(address)
        if refusal is not None:
            smtp.close_after_reply = refusal.startswith(f"{_SERVICE_CLOSING} ")
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(  # pylint: disable=invalid-name
        self, smtp: _LabSMTP, session: Session, envelope: Envelope
    ) -> str:
        """Store the message or refuse it; a hold delays the answer, not the storing, as a server
        that has committed the message to its queue and is slow to say so."""
        del session
        reply = self.faults.take(_DataFault.REJECT)
        if reply is None:
            self.server.messages.append(ReceivedMessage.from_envelope(envelope))
            reply = "250 2.0.0 Ok: queued"
            smtp.close_after_reply = bool(self.faults.take(_DataFault.DROP_AFTER_ACCEPT))
        else:
            smtp.close_after_reply = reply.startswith(f"{_SERVICE_CLOSING} ")
        hold = self.faults.take(_DataFault.HOLD)
        if hold:
            await asyncio.sleep(hold)
        return reply


# --- The server ------------------------------------------------------------------------------


class SmtpServer:
    """An SMTP server on 127.0.0.1, its event loop in a thread; see the module docstring.

    ``tls`` is "starttls", "implicit" or None; ``users`` maps usernames to passwords and makes AUTH
    mandatory.  The CA and certificate are made here, so ``ca_file`` is usable before ``start()``
    and stays the same across restarts.  The first ``start()`` takes an ephemeral port (unless
    ``port`` is given); a later ``start()`` after ``stop()`` listens on the same port again, so a
    test can take the server down and bring it back under a client's feet.

    ``messages`` and ``sessions`` are filled by the server thread before it answers, so they are
    complete once the client's call has returned.
    """

    def __init__(self, tls: str | None = "starttls", users: Mapping[str, str] | None = None, port: int = 0) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {TLS_MODES}, not {tls!r}")
        self.tls = tls
        self.users = dict(users) if users is not None else None
        self.host = LOOPBACK
        self.port = port
        self.messages: list[ReceivedMessage] = []
        self.sessions: list[SmtpSession] = []
        self.ca = trustme.CA()
        ca_directory = tempfile.mkdtemp(prefix="smtp-server-ca-")
        weakref.finalize(self, shutil.rmtree, ca_directory, ignore_errors=True)
        self.ca_file = os.path.join(ca_directory, "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self._tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(SERVER_NAME, LOOPBACK).configure_cert(self._tls_context)
        self._faults = _FaultPlan()
        self._hooks = _Hooks(self, self._faults)
        self._connections: weakref.WeakSet[_LabSMTP] = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    # Not aiosmtpd's Controller: it cannot listen on port 0 (its readiness probe connects to the
    # configured port) and leaves open connections behind when it stops.
    def start(self) -> SmtpServer:
        """Listen on 127.0.0.1 and serve from a thread; returns the server."""
        if self._loop is not None:
            raise RuntimeError("SmtpServer is already running")
        loop = asyncio.new_event_loop()
        try:
            listener = loop.run_until_complete(
                loop.create_server(
                    self._new_connection,
                    LOOPBACK,
                    self.port,
                    ssl=self._tls_context if self.tls == "implicit" else None,
                )
            )
        except BaseException:
            loop.close()
            raise
        self.port = listener.sockets[0].getsockname()[1]
        self._loop, self._listener = loop, listener
        self._thread = threading.Thread(target=loop.run_forever, name=f"SmtpServer {LOOPBACK}:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection (a held DATA answer included)."""
        if self._loop is None or self._listener is None or self._thread is None:
            return
        loop = self._loop
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join()
        # The loop thread has ended: finish the shutdown from here, on the same loop.
        self._listener.close()
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.abort()
        loop.run_until_complete(_cancel_all(asyncio.all_tasks(loop)))
        loop.close()
        self._loop = self._listener = self._thread = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _new_connection(self) -> _LabSMTP:
        """The protocol for a new client connection (asyncio's protocol factory)."""
        record = SmtpSession()
        self.sessions.append(record)
        connection = _LabSMTP(
            self._hooks,
            self._faults,
            record,
            loop=self._loop,
            hostname=SERVER_NAME,  # aiosmtpd would ask socket.getfqdn(), which may query DNS
            enable_SMTPUTF8=True,
            tls_context=self._tls_context if self.tls == "starttls" else None,
            # aiosmtpd counts only STARTTLS as TLS, so AUTH over implicit TLS (or in plain mode)
            # must not require it.  "STARTTLS before MAIL" and "AUTH before MAIL" are _Hooks'
            # rules rather than aiosmtpd's require_starttls/auth_required: those refuse commands
            # before the command log sees them, and auth_required warns about AUTH in the clear.
            auth_require_tls=self.tls == "starttls",
            authenticator=self._hooks.authenticate,
            auth_exclude_mechanism=[] if self.users is not None else ["LOGIN", "PLAIN"],
        )
        self._connections.add(connection)
        return connection

    # --- Fault injection ---------------------------------------------------------------------

    def reject_rcpt(self, pattern: str, code: int = 550, text: str | None = None, times: int | None = None) -> None:
        """Refuse RCPT TO for addresses matching ``pattern`` (an address, or a shell-style pattern
        like "*@example.net"; case-insensitive) with ``code`` and ``text`` (by default a Postfix
        style "<address>: Recipient address rejected: ..." with an enhanced status code).

        Unlike the DATA faults this lasts (``times=None``), as an unknown mailbox stays unknown;
        ``times=N`` refuses only the next N matching recipients, e.g. greylisting with a 450.
        A 421 also closes the connection.
        """
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 or None, not {times}")
        self._faults.add_rcpt_rule(_RcptRule(pattern, _failure_code(code), text, times))

    def reject_mail(self, code: int = 550, text: str | None = None, times: int = 1) -> None:
        """Refuse MAIL FROM of the next ``times`` transactions with ``code`` (by default a Postfix
        style "Sender address rejected"), as a relay does for a sender it will not relay for."""
        self._faults.arm(_DataFault.REJECT_MAIL, f"{_failure_code(code)} {text or _MAIL_PERMANENT_TEXT}", times)

    def reject_data(self, code: int = 554, text: str | None = None, times: int = 1) -> None:
        """Answer the end of DATA of the next ``times`` messages with ``code`` instead of 250; those
        messages are not stored.  A 421 also closes the connection."""
        default = _DATA_TEMPORARY_TEXT if _failure_code(code) < 500 else _DATA_PERMANENT_TEXT
        self._faults.arm(_DataFault.REJECT, f"{code} {text or default}", times)

    def drop_during_data(self, times: int = 1) -> None:
        """For the next ``times`` messages, answer DATA with 354, then close the connection as soon
        as the first bytes of the message arrive; nothing is stored."""
        self._faults.arm(_DataFault.DROP_DURING, True, times)

    def accept_then_drop(self, times: int = 1) -> None:
        """For the next ``times`` messages, store the message and answer 250, then close the
        connection at once, before the client's next command (normally QUIT)."""
        self._faults.arm(_DataFault.DROP_AFTER_ACCEPT, True, times)

    def hold_data(self, seconds: float, times: int = 1) -> None:
        """Wait ``seconds`` before answering the end of DATA of the next ``times`` messages; the
        message is stored before the wait, so a client that times out has still sent it."""
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, not {seconds}")
        self._faults.arm(_DataFault.HOLD, seconds, times)

    def clear_faults(self) -> None:
        """Disarm every fault: the server accepts everything again."""
        self._faults.clear()


async def _cancel_all(tasks: set[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` (client handlers, held answers) and wait until they have ended."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def closed_port() -> int:
    """A port of 127.0.0.1 with nothing listening, so connecting is refused like a mail server
    that is down.  (The port was free a moment ago; nothing on a test machine should take it.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


# --- The pytest fixture ----------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SmtpServer]]:
    """Factory: ``smtp_server(tls="starttls", users=None)`` starts an ``SmtpServer`` and returns
    it, running; clients connect to ``server.host``/``server.port`` and trust ``server.ca_file``.
    Every server is stopped at teardown."""
    servers: list[SmtpServer] = []

    def make(tls: str | None = "starttls", users: Mapping[str, str] | None = None) -> SmtpServer:
        server = SmtpServer(tls=tls, users=users)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()
