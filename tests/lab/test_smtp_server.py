"""Drive the lab SMTP server with plain smtplib, as the collection's mailer will (STARTTLS or
implicit TLS with certificate verification against a CA file, login, send_message), and check
that each armed fault reaches the client as the smtplib exception a real mail server would cause.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from lab.smtp_server import SmtpServer, closed_port

pytestmark = pytest.mark.lab

#: smtplib would otherwise EHLO with socket.getfqdn(), which may ask DNS.
CLIENT_NAME = "peerwarden.example"
SENDER = "peering@example.org"
CONTACT = "noc@example.net"
OTHER_CONTACT = "peering@example.com"
SUBJECT = "Peering request: AS64496 ↔ Example-IX, Grüße aus Zürich"
USERS = {"peerwarden": "correct horse"}
TIMEOUT = 5.0


def contact_message(*recipients: str) -> EmailMessage:
    """A peering request like the collection sends: non-ASCII subject and body, own Message-ID."""
    message = EmailMessage()
    message["From"] = f"Peerwarden <{SENDER}>"
    message["To"] = ", ".join(recipients or (CONTACT,))
    message["Subject"] = SUBJECT
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content("Hello,\n\nwe would like to peer with you at Example-IX.\n\nGrüße,\nPeerwarden\n")
    return message


def trusting(server: SmtpServer) -> ssl.SSLContext:
    """A verifying client context that trusts only the server's lab CA."""
    return ssl.create_default_context(cafile=server.ca_file)


def submission_client(server: SmtpServer, timeout: float = TIMEOUT) -> smtplib.SMTP:
    """A client connected, after STARTTLS and login, the way the collection's mailer connects."""
    client = smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=timeout)
    client.starttls(context=trusting(server))
    client.login("peerwarden", USERS["peerwarden"])
    return client


# --- TLS and AUTH ----------------------------------------------------------------------------


def test_starttls_login_and_send_message_deliver_the_message_intact(smtp_server):
    server = smtp_server(tls="starttls", users=USERS)
    message = contact_message()
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
        client.starttls(context=trusting(server))
        client.login("peerwarden", USERS["peerwarden"])
        assert client.send_message(message) == {}

    [received] = server.messages
    assert (received.mail_from, received.rcpt_tos) == (SENDER, [CONTACT])
    assert received.message["Subject"] == SUBJECT
    headers = received.raw.split(b"\r\n\r\n")[0]
    assert headers.isascii() and b"=?utf-8?" in headers  # RFC 2047 on the wire, decoded by the parser
    assert received.message["Message-ID"] == message["Message-ID"]
    assert received.message["From"].addresses[0].addr_spec == SENDER
    assert "Grüße" in received.message.get_content()

    [session] = server.sessions
    mail_from = session.commands.pop(4)
    assert mail_from.startswith(f"MAIL FROM:<{SENDER}> size=")  # smtplib announces the size
    assert session.commands == [
        f"EHLO {CLIENT_NAME}",
        "STARTTLS",
        f"EHLO {CLIENT_NAME}",
        "AUTH PLAIN",
        f"RCPT TO:<{CONTACT}>",
        "DATA",
        "QUIT",
    ]
    assert (session.tls, session.user) == (True, "peerwarden")
    assert not any(USERS["peerwarden"] in command for command in session.commands)


def test_auth_login_is_offered_besides_plain(smtp_server):
    server = smtp_server(tls="starttls", users=USERS)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
        client.starttls(context=trusting(server))
        client.ehlo()  # smtplib forgets the extensions at STARTTLS
        assert set(client.esmtp_features["auth"].split()) == {"LOGIN", "PLAIN"}
        client.user, client.password = "peerwarden", USERS["peerwarden"]
        code, dummy = client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        assert code == 235
        client.send_message(contact_message())
    assert server.sessions[0].user == "peerwarden"
    assert "AUTH LOGIN" in server.sessions[0].commands
    assert len(server.messages) == 1


def test_the_certificate_verifies_against_the_ca_file_and_nothing_else(smtp_server):
    server = smtp_server(tls="starttls")
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
        client.starttls(context=trusting(server))
        names = client.sock.getpeercert()["subjectAltName"]
        assert ("DNS", "localhost") in names and ("IP Address", "127.0.0.1") in names

    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(context=ssl.create_default_context())  # the system CAs only


def test_implicit_tls_serves_smtp_ssl(smtp_server):
    server = smtp_server(tls="implicit", users=USERS)
    with smtplib.SMTP_SSL(
        server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT, context=trusting(server)
    ) as client:
        assert not client.has_extn("starttls")
        client.login("peerwarden", USERS["peerwarden"])
        client.send_message(contact_message())
    assert len(server.messages) == 1
    assert server.sessions[0].tls

    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL(
            server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT, context=ssl.create_default_context()
        )


def test_starttls_comes_before_auth_and_mail(smtp_server):
    server = smtp_server(tls="starttls", users=USERS)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
        client.ehlo()
        assert client.has_extn("starttls") and not client.has_extn("auth")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            client.login("peerwarden", USERS["peerwarden"])
        assert client.mail(SENDER) == (530, b"5.7.0 Must issue a STARTTLS command first")


def test_mail_without_auth_is_refused_with_530(smtp_server):
    server = smtp_server(tls="starttls", users=USERS)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
        client.starttls(context=trusting(server))
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(contact_message())
    assert refused.value.smtp_code == 530
    assert server.messages == []


def test_a_wrong_password_is_refused_with_535(smtp_server):
    server = smtp_server(tls="starttls", users=USERS)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
        client.starttls(context=trusting(server))
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login("peerwarden", "wrong password")
    assert refused.value.smtp_code == 535
    assert server.sessions[0].user is None
    assert not any("wrong password" in command for command in server.sessions[0].commands)


def test_a_plain_server_without_users_takes_mail_in_the_clear(smtp_server):
    server = smtp_server(tls=None)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=TIMEOUT) as client:
        client.ehlo()
        assert not client.has_extn("starttls") and not client.has_extn("auth")
        client.send_message(contact_message())
    assert len(server.messages) == 1
    assert server.sessions[0].tls is False


# --- Faults ----------------------------------------------------------------------------------


def test_a_450_on_rcpt_refuses_the_only_recipient(smtp_server):
    server = smtp_server(users=USERS)
    server.reject_rcpt(CONTACT, code=450)
    with submission_client(server) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.send_message(contact_message())
    code, text = refused.value.recipients[CONTACT]
    assert code == 450 and text.startswith(b"4.7.1 <noc@example.net>:")
    assert server.messages == []


def test_a_refused_recipient_among_others_is_returned_and_the_rest_get_the_message(smtp_server):
    server = smtp_server(users=USERS)
    server.reject_rcpt("*@EXAMPLE.NET", text="5.1.1 Mailbox unavailable")
    with submission_client(server) as client:
        refused = client.send_message(contact_message(CONTACT, OTHER_CONTACT))
    assert refused == {CONTACT: (550, b"5.1.1 Mailbox unavailable")}
    assert [message.rcpt_tos for message in server.messages] == [[OTHER_CONTACT]]


def test_a_rcpt_rejection_limited_in_times_models_greylisting(smtp_server):
    server = smtp_server(users=USERS)
    server.reject_rcpt(CONTACT, code=450, times=1)
    with submission_client(server) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.send_message(contact_message())
        assert client.send_message(contact_message()) == {}
    assert len(server.messages) == 1


def test_a_554_after_data_raises_smtp_data_error_and_stores_nothing(smtp_server):
    server = smtp_server(users=USERS)
    server.reject_data(code=554)
    with submission_client(server) as client:
        with pytest.raises(smtplib.SMTPDataError) as rejected:
            client.send_message(contact_message())
        assert rejected.value.smtp_code == 554
        assert server.messages == []
        client.send_message(contact_message())  # times=1: the next message goes through
    assert len(server.messages) == 1


def test_a_421_after_data_also_closes_the_connection(smtp_server):
    server = smtp_server(users=USERS)
    server.reject_data(code=421, text="4.3.2 Service shutting down")
    client = submission_client(server)
    client.mail(SENDER)
    client.rcpt(CONTACT)
    assert client.data(contact_message().as_bytes()) == (421, b"4.3.2 Service shutting down")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.noop()
    assert server.messages == []


def test_a_drop_during_data_disconnects_the_client_and_stores_nothing(smtp_server):
    server = smtp_server(users=USERS)
    server.drop_during_data()
    with submission_client(server) as client, pytest.raises(smtplib.SMTPServerDisconnected):
        client.send_message(contact_message())
    assert server.messages == []
    assert server.sessions[0].commands[-1] == "DATA"

    with submission_client(server) as client:  # the server itself is still up
        client.send_message(contact_message())
    assert len(server.messages) == 1


def test_accept_then_drop_stores_the_message_and_only_quit_fails(smtp_server):
    """send_message returns normally: the 250 arrived.  The drop shows only at QUIT, and leaving a
    ``with smtplib.SMTP(...)`` block hides it altogether (smtplib ignores a disconnect there)."""
    server = smtp_server(users=USERS)
    server.accept_then_drop()
    client = submission_client(server)
    assert client.send_message(contact_message()) == {}
    assert len(server.messages) == 1
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.quit()

    server.accept_then_drop()
    with submission_client(server) as client:
        assert client.send_message(contact_message()) == {}
    assert len(server.messages) == 2
    assert all(session.commands[-1] == "DATA" for session in server.sessions)


def test_a_hold_past_the_client_timeout_disconnects_it_though_the_message_was_stored(smtp_server):
    server = smtp_server(users=USERS)
    server.hold_data(seconds=3)
    client = submission_client(server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        client.send_message(contact_message())
    assert time.monotonic() - started < 2
    assert len(server.messages) == 1  # a retry now would deliver it twice


def test_a_short_hold_only_delays_the_answer(smtp_server):
    server = smtp_server(users=USERS)
    server.hold_data(seconds=0.3)
    with submission_client(server) as client:
        started = time.monotonic()
        client.send_message(contact_message())
        assert time.monotonic() - started >= 0.3
    assert len(server.messages) == 1


def test_a_server_that_is_down_refuses_the_connection_until_it_is_back(smtp_server):
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", closed_port(), local_hostname=CLIENT_NAME, timeout=TIMEOUT)

    server = smtp_server(users=USERS)
    port = server.port
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(server.host, port, local_hostname=CLIENT_NAME, timeout=TIMEOUT)
    server.start()
    assert server.port == port
    with submission_client(server) as client:  # the same CA file is still trusted
        client.send_message(contact_message())
    assert len(server.messages) == 1


def test_cleared_faults_let_everything_through(smtp_server):
    server = smtp_server(users=USERS)
    server.reject_rcpt(CONTACT)
    server.reject_data(times=3)
    server.drop_during_data()
    server.clear_faults()
    with submission_client(server) as client:
        assert client.send_message(contact_message()) == {}
    assert len(server.messages) == 1


def test_fault_arguments_are_checked():
    server = SmtpServer()
    with pytest.raises(ValueError):
        server.reject_data(code=250)
    with pytest.raises(ValueError):
        server.reject_rcpt(CONTACT, code=600)
    with pytest.raises(ValueError):
        server.hold_data(seconds=0)
    with pytest.raises(ValueError):
        server.drop_during_data(times=0)
    with pytest.raises(ValueError):
        SmtpServer(tls="ssl")
