"""A session's `tunnel:` section: the schema (checked with the rest, config.schema) and the meaning
(config._check): exactly one of listen (runner B: this runner accepts the tunnel instead of the
peer's TCP connection) or connect (runner A: this runner opens the tunnel instead of a TCP connection
to the router); TLS unless plain is allowed on loopback; a token and/or a client certificate; the files
readable and the certificates loadable, so that `check` refuses what `run` would fail on.

    tunnel:
      listen: 127.0.0.1:8179        # runner B (a port alone: on 127.0.0.1; an address alone: port 8179);
                                    # or connect: wss://127.0.0.1:8179/ (runner A)
      cert_file: /etc/peerwarden/tunnel.pem  # B: its certificate; A: its client certificate (optional)
      key_file: /etc/peerwarden/tunnel.key
      ca_file: /etc/peerwarden/ca.pem       # B: client certificates required from this CA;
                                            # A: the CA of B's certificate (default: the system's)
      token_file: /etc/peerwarden/tunnel.token  # the bearer token (both sides the same)
      allow_plain: false            # ws:// without TLS: loopback only, and only with this set
      backoff_max: 30s              # A: the longest pause between tunnel attempts
"""

import ipaddress
import ssl

from yarl import URL

from peerwarden_runner import schema as s
from peerwarden_runner.addresses import address_port
from peerwarden_runner.tunnel.tls import client_context, read_token, server_context

BACKOFF_MAX = 30.0
PORT = 8179  # the listener's port when its address is given alone


def tunnel_schema():
    path = s.string(expected="a file path")
    return s.obj(
        {
            "listen": {
                "anyOf": [s.address_port(), s.port()],
                s.EXPECTED: "ADDRESS[:PORT], or a port alone (then on 127.0.0.1)",
            },
            "connect": s.string(r"^wss?://", "a wss://HOST:PORT/PATH URL"),
            "cert_file": path,
            "key_file": path,
            "ca_file": path,
            "token_file": path,
            "allow_plain": s.boolean(),
            "backoff_max": s.duration_value(),
        },
        expected="a mapping with listen (accept the tunnel) or connect (open it), and its TLS and token files",
    )


def check_tunnel(value, key, problem):
    """The normalised section (None without one): {"side": "listen" | "connect", "listen": (host, port)
    or "connect": URL, "ssl": an SSLContext or None, "token": str or None, "backoff_max": seconds}."""
    if value is None:
        return None
    sides = [side for side in ("listen", "connect") if side in value]
    if len(sides) != 1:
        problem(key, "needs exactly one of listen (this runner accepts the tunnel) or connect (it opens it)")
        return None
    side, plain = sides[0], bool(value.get("allow_plain", False))
    entry = {"side": side, "token": None, "ssl": None, "backoff_max": s.duration(value.get("backoff_max", BACKOFF_MAX))}
    if side == "listen":
        try:
            listen = value["listen"]
            entry["listen"] = ("127.0.0.1", listen) if isinstance(listen, int) else address_port(listen, PORT)
        except ValueError as error:
            problem(key + ".listen", "%r is not ADDRESS:PORT (%s)" % (value["listen"], error))
            return None
        host = entry["listen"][0]
        tls = "cert_file" in value
    else:
        url = URL(value["connect"])
        entry["connect"] = str(url)
        host = url.host or ""
        tls = url.scheme == "wss"
        if not host or (url.scheme == "ws" and url.explicit_port is None):
            problem(key + ".connect", "%r has no host or port (expected wss://HOST:PORT/PATH)" % value["connect"])
            return None
    if not tls and not (plain and _loopback(host)):
        what = "a cert_file (wss)" if side == "listen" else "a wss:// URL"
        problem(key + "." + side, "TLS is required: %s; plain ws only on loopback with allow_plain: true" % what)
        return None
    if "token_file" in value:
        try:
            entry["token"] = read_token(value["token_file"])
        except (OSError, ValueError) as error:
            problem(key + ".token_file", "cannot read the token: %s" % (getattr(error, "strerror", None) or error))
    if side == "listen":
        if "token_file" not in value and "ca_file" not in value:
            problem(key, "needs token_file and/or ca_file (client certificates): it would admit anyone")
        if not tls and "ca_file" in value:
            problem(key + ".ca_file", "client certificates need TLS (a cert_file)")
        if tls:
            entry["ssl"] = _context(
                server_context, key, problem, value["cert_file"], value.get("key_file"), value.get("ca_file")
            )
    else:
        if "token_file" not in value and "cert_file" not in value:
            problem(key, "needs token_file and/or cert_file (a client certificate) to authenticate")
        if tls:
            entry["ssl"] = _context(
                client_context, key, problem, value.get("ca_file"), value.get("cert_file"), value.get("key_file")
            )
        elif "cert_file" in value:
            problem(key + ".cert_file", "a client certificate needs TLS (a wss:// URL)")
    return entry


def _loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: never trusted to be loopback


def _context(make, key, problem, *files):
    try:
        return make(*files)
    except FileNotFoundError as error:
        problem(key, "cannot read %s: %s" % (error.filename, error.strerror))
    except (OSError, ssl.SSLError, ValueError) as error:
        problem(key, "the certificate, key or CA file cannot be used: %s" % error)
    return None
