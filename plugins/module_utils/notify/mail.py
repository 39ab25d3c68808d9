# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build an email and hand it over: to an SMTP server (STARTTLS or implicit TLS, certificates
verified by default) or to an outbox directory of .eml files.

Delivery outcomes are kinds of exception, because they call for different actions:
Temporary (4xx, connection lost: keep the intent, retry next run), Permanent (5xx to the message:
record and report, never retry), Refused (5xx to every recipient of one message: the run decides
whether that is the recipients' problem or ours, see run.py) and Fatal (login, TLS, our own
sender refused at MAIL FROM: stop this run, keep the intents, fix, retry later).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import smtplib
import socket
import ssl
import tempfile
import uuid
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.dataset import EMAIL

LINE_BREAK = re.compile(r"[\r\n\x00]")


class UnsafeData(ValueError):
    """A value that would end up in a header holds a line break (header injection)."""


class Temporary(Exception):
    pass


class Permanent(Exception):
    pass


class Fatal(Exception):
    pass


class Refused(Permanent):
    """Every recipient of one message refused with 5xx: the recipients' problem if others were
    accepted in the same run, our relay's if nobody was."""


def check_address(value, option):
    """A bare address like those we send to (the same rules as the contacts' emails), or a
    ValueError naming the option: a typo in our own From must stop the run before anything is sent."""
    text = safe(value, option)
    if not EMAIL.match(text):
        raise ValueError("%s: %r is not an email address (like peering@example.net); nothing was sent"
                         % (option, text[:80]))
    return text


def safe(value, what):
    text = "" if value is None else str(value)
    if LINE_BREAK.search(text):
        raise UnsafeData("refused: %s contains a line break (%r), which could inject mail headers" % (what, text[:80]))
    return text


def new_message_id(sender):
    """Short enough that "Message-ID: <...>" stays on one line (email folds headers over 78)."""
    domain = sender.rpartition("@")[2] or "peerwarden.invalid"
    return "<pw.%s@%s>" % (uuid.uuid4().hex[:24], domain)


def build(sender_name, sender, recipients, subject, text, html, message_id, when, reply_to=None, cc=(),
          redirect_to=None):
    """An EmailMessage (plain text, with an HTML alternative when given) with RFC 3834 marking.

    With redirect_to, the message goes to that one address instead, says in its first lines and in
    X-Peerwarden-Original-To whom it was meant for, and keeps no Cc.
    """
    for value, what in ((sender_name, "our name"), (sender, "the From address"), (subject, "the subject"),
                        (reply_to, "Reply-To"), (redirect_to, "redirect_to")):
        safe(value, what)
    for address in list(recipients) + list(cc):
        safe(address, "a recipient address")
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    if redirect_to:
        intended = ", ".join(list(recipients) + list(cc))
        message["To"] = redirect_to
        message["X-Peerwarden-Original-To"] = intended
        note = "[peerwarden test mode: this message was meant for %s]\n\n" % intended
        text = note + text
        if html is not None:
            html = "<p><em>%s</em></p>\n%s" % (note.strip().replace("<", "&lt;"), html)
    else:
        message["To"] = ", ".join(recipients)
        if cc:
            message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def preview(message):
    """What a reader sees of a message: its main headers and the decoded plain text (for --diff)."""
    head = ["%s: %s" % (name, message[name]) for name in ("To", "Cc", "Reply-To", "Subject", "Message-ID")
            if message[name] is not None]
    return "\n".join(head) + "\n\n" + message.get_body(("plain",)).get_content()


def envelope(recipients, cc=(), bcc=(), redirect_to=None):
    if redirect_to:
        return [redirect_to]
    seen, result = set(), []
    for address in list(recipients) + list(cc) + list(bcc):
        if address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


class Outbox:
    """Each message becomes <dir>/<time>-AS<asn>-<id>.eml, written atomically."""

    def __init__(self, directory):
        self.directory = os.path.expanduser(directory)

    def send(self, raw, sender, recipients, label):
        path = os.path.join(self.directory, label + ".eml")
        try:
            if not os.path.isdir(self.directory):
                os.makedirs(self.directory, 0o755)
            handle, temporary = tempfile.mkstemp(prefix=".outbox-", dir=self.directory)
            with os.fdopen(handle, "wb") as out:
                out.write(raw)
            os.replace(temporary, path)
        except OSError as error:
            raise Fatal("cannot write %s into the outbox %s: %s"
                        % (os.path.basename(path), self.directory, error.strerror or error))
        return path

    def close(self):
        pass


class Smtp:
    """One connection for the whole run, opened on first use and again after a drop."""

    def __init__(self, host, port=None, security="starttls", validate_certs=True, ca_file=None, username=None,
                 password=None, timeout=30):
        self.host, self.security, self.timeout = host, security, timeout
        self.port = port or {"tls": 465, "starttls": 587}.get(security, 25)
        self.username, self.password = username, password
        self.context = ssl.create_default_context(cafile=ca_file)
        if not validate_certs:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        self.session = None

    def _connect(self):
        try:
            # local_hostname: without it smtplib asks DNS for our FQDN, which can hang a controller
            if self.security == "tls":
                session = smtplib.SMTP_SSL(self.host, self.port, local_hostname="peerwarden", timeout=self.timeout,
                                           context=self.context)
            else:
                session = smtplib.SMTP(self.host, self.port, local_hostname="peerwarden", timeout=self.timeout)
                if self.security == "starttls":
                    session.ehlo()
                    if not session.has_extn("starttls"):
                        raise Fatal("%s:%d does not offer STARTTLS: use smtp.security tls (port 465) or fix the "
                                    "server" % (self.host, self.port))
                    session.starttls(context=self.context)
            if self.username:
                session.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise Fatal("SMTP login as %s at %s:%d refused (%d): check smtp.username and smtp.password"
                        % (self.username, self.host, self.port, error.smtp_code))
        except smtplib.SMTPNotSupportedError:
            raise Fatal("%s:%d offers no AUTH (login) on this connection: check smtp.security, or leave out "
                        "smtp.username if the relay takes mail without a login" % (self.host, self.port))
        except ssl.SSLCertVerificationError as error:
            raise Fatal("TLS certificate of %s:%d not trusted (%s): give smtp.ca_file, or fix the certificate"
                        % (self.host, self.port, error.verify_message))
        except (smtplib.SMTPException, OSError, socket.timeout) as error:
            raise Temporary("cannot reach the SMTP server %s:%d: %s" % (self.host, self.port, error))
        self.session = session

    def send(self, raw, sender, recipients, label):
        if self.session is None:
            self._connect()
        try:
            refused = self.session.sendmail(sender, recipients, raw)
        except smtplib.SMTPSenderRefused as error:
            self._drop()
            reason = "%d %s" % (error.smtp_code, _text(error.smtp_error))
            if error.smtp_code >= 500:
                raise Fatal("the SMTP server %s:%d refused our sender %s at MAIL FROM (%s): fix the From "
                            "address (from, our.contact) or the relay's rules for it (smtp.username, "
                            "the relay's allowed senders); no network was marked" % (self.host, self.port, sender,
                                                                                     reason))
            raise Temporary("the server deferred our sender %s at MAIL FROM: %s" % (sender, reason))
        except smtplib.SMTPRecipientsRefused as error:
            self._drop()
            codes = [code for code, dummy in error.recipients.values()]
            detail = "; ".join("%s: %s %s" % (rcpt, code, _text(reply)) for rcpt, (code, reply) in error.recipients.items())
            if all(code >= 500 for code in codes):
                raise Refused("every recipient refused: %s" % detail)
            raise Temporary("recipients refused for now: %s" % detail)
        except smtplib.SMTPResponseException as error:
            self._drop()
            reason = "%d %s" % (error.smtp_code, _text(error.smtp_error))
            if error.smtp_code >= 500:
                raise Permanent("the server refused the message: %s" % reason)
            raise Temporary("the server deferred the message: %s" % reason)
        except (smtplib.SMTPException, OSError, socket.timeout) as error:
            self._drop()
            raise Temporary("the connection to %s:%d failed while sending: %s" % (self.host, self.port,
                                                                                  error or type(error).__name__))
        return "accepted by %s:%d%s" % (self.host, self.port,
                                        "; refused: %s" % ", ".join(sorted(refused)) if refused else "")

    def _drop(self):
        if self.session is not None:
            try:
                self.session.close()
            except (smtplib.SMTPException, OSError):
                pass
        self.session = None

    def close(self):
        if self.session is not None:
            try:
                self.session.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._drop()


def _text(reply):
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
