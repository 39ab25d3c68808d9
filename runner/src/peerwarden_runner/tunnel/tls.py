"""TLS contexts and the bearer token of the tunnel: secure by default (TLS 1.2 or later, the server's
certificate verified, a client certificate required whenever a CA file is given) and a token read
from a file, compared in constant time and never logged."""

import hmac
import logging
import ssl

from peerwarden_runner.ratelimit import RateLimitedLog

LOG = logging.getLogger("peerwarden_runner.tunnel")
REFUSALS = RateLimitedLog(LOG)


class LoggedHandshake(ssl.SSLObject):
    """The listener's TLS object: a handshake that fails (no client certificate, one from another CA, a
    client that does not trust us) is logged, at most once per reason per minute; asyncio itself drops
    it silently. The SSL object does not know the caller's address, so the line cannot name it."""

    def do_handshake(self):
        try:
            return super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as error:
            reason = error.reason or type(error).__name__
            REFUSALS.log(logging.WARNING, "tls " + reason, "tunnel: TLS handshake refused: %s", error)
            raise


def read_token(path):
    """The token in `path` (surrounding whitespace removed); ValueError when the file is empty."""
    with open(path, encoding="utf-8") as handle:
        token = handle.read().strip()
    if not token:
        raise ValueError("%s: the token file is empty" % path)
    return token


def token_matches(expected, authorization):
    """Whether an Authorization header carries `Bearer <expected>`, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


def server_context(cert_file, key_file, ca_file=None):
    """The listener's context: its certificate; with `ca_file`, a client certificate signed by that CA
    is required (the handshake fails without one)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    context.sslobject_class = LoggedHandshake
    if ca_file:
        context.load_verify_locations(ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(ca_file=None, cert_file=None, key_file=None):
    """The connector's context: the server's certificate verified (against `ca_file`, or the system's
    CAs) with its host name; with `cert_file`, a client certificate to show."""
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context
