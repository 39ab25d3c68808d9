"""A local PeeringDB REST API and IX-F Member Export server with fault injection, as a pytest fixture.

The collection's PeeringDB client has to be tested over real HTTP: paging through capped pages,
query filters, ``depth``, the ``Authorization: Api-Key`` header and contacts hidden from anonymous
users, and the failures the real service produces (429 with Retry-After, 5xx, broken JSON, slow
answers, dropped connections).  ``FakePeeringDB`` answers like https://www.peeringdb.com/apidocs/
for a small in-memory world and serves static files (IX-F exports), listening on 127.0.0.1 only.

- ``peeringdb_server``: pytest fixture, a factory ``peeringdb_server(objects=None, files=None,
  api_key=None, max_limit=250)`` that starts one server per call and stops them all at teardown.
- ``sample_objects()`` / ``sample_ixf_export()`` / ``sample_files()``: a consistent demo world of
  two exchanges and five networks (documentation addresses and ASNs only) with deliberate flaws
  for client code to reject; the docstrings of ``sample_objects`` and ``sample_ixf_export`` list
  them.

What the server does like the real API, and where it is simpler:

- ``GET /api/<type>`` answers ``{"data": [...], "meta": {}}`` sorted by id; ``GET /api/<type>/<id>``
  answers ``{"data": [record]}`` or 404 ``{"meta": {"error": "Entity not found"}}``; any other path
  under /api/ is a 404.  Every real object type is known (an empty list when the world has none).
- ``limit`` / ``skip`` page the list; ``limit=0`` or no limit asks for everything.  A page never
  holds more than ``max_limit`` rows, whatever was asked (``None`` lifts the cap), so a client that
  does not loop until a short or empty page misses records, as it would on peeringdb.com.
- Filters: ``field=value``, ``field__in=a,b``, ``field__contains=`` and ``field__startswith=`` (both
  case-insensitive, as PeeringDB maps them to ``icontains``/``istartswith``).  Values are compared
  by the field's type: numbers must parse (else 400), booleans accept true/false/1/0.  A field the
  object type does not have, or another modifier, is a 400 with ``{"meta": {"error": ...}}``.
  ``fields=a,b`` keeps only those keys.
- ``depth`` expands ``*_set`` fields only (never single relations): 0 (default for lists) none,
  1 the child ids, 2 or more the child records (default for a single object).  Embedded records
  lack the foreign key to their parent and their own sets, as in the real answers: a ``net``'s
  ``netixlan_set`` entries have no ``net_id``.
- Authentication: ``Authorization: Api-Key <api_key>`` makes a request authenticated; any other
  Authorization header (another key, a key when the server has none, another scheme) is a 401.
  Anonymous requests see only ``poc`` records whose ``visible`` is "Public", in lists, single
  objects and ``poc_set``; an authenticated request sees them all.
- The string ``BASE_URL`` (``"@BASE_URL@"``) anywhere in an API answer becomes the server's own base
  URL, so an ixlan's ``ixf_ixp_member_list_url`` can point at an export this server serves.
- Static files: ``files`` maps a path ("/ixf/example-ix.json") to bytes, served as they are (JSON
  when the path ends in .json); no authentication.  Other paths are a plain 404.

``server.fail_next(path_prefix, *faults)`` scripts the next answers (429, 5xx, broken bodies,
delays, dropped connections); ``server.requests`` records every request for assertions.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import pytest

LOOPBACK = "127.0.0.1"

#: Replaced by the server's base URL ("http://127.0.0.1:PORT") in every API answer.
BASE_URL = "@BASE_URL@"

#: Where ``sample_files()`` puts the Example-IX export; the sample ixlan 1 points here.
EXAMPLE_IX_EXPORT_PATH = "/ixf/example-ix.json"

#: The object types of the real API (https://www.peeringdb.com/apidocs/).
OBJECT_TYPES = (
    "as_set", "campus", "carrier", "carrierfac", "fac", "ix", "ixfac", "ixlan", "ixpfx",
    "net", "netfac", "netixlan", "org", "poc",
)  # fmt: skip

#: ``<type>_set`` fields that ``depth`` expands: parent type -> (set name, child type, child's key
#: to the parent).
SETS = {
    "org": (("net_set", "net", "org_id"), ("fac_set", "fac", "org_id"), ("ix_set", "ix", "org_id")),
    "ix": (("ixlan_set", "ixlan", "ix_id"),),
    "ixlan": (("ixpfx_set", "ixpfx", "ixlan_id"),),
    "net": (
        ("netfac_set", "netfac", "net_id"),
        ("netixlan_set", "netixlan", "net_id"),
        ("poc_set", "poc", "net_id"),
    ),
}

_PAGING_PARAMETERS = frozenset({"limit", "skip", "depth", "fields"})
_FILTER_MODIFIERS = frozenset({"", "in", "contains", "startswith"})
_DEFAULT_LIST_DEPTH = 0
_DEFAULT_SINGLE_DEPTH = 2
#: How often serve_forever checks for stop(); the default 0.5 s would make each teardown that slow.
_SHUTDOWN_POLL_INTERVAL = 0.02


# --- Scripted faults and recorded requests ---------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One scripted answer queued with ``FakePeeringDB.fail_next``.

    ``delay`` seconds pass first (a client with a shorter timeout gives up).  Then ``drop`` closes
    the connection without any response; otherwise ``status`` and/or ``body`` replace the normal
    answer (``body`` alone means status 200, ``status`` alone a JSON ``{"meta": {"error": ...}}``
    body).  A fault with only a delay is followed by the normal answer.
    """

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0
    drop: bool = False

    def __post_init__(self) -> None:
        if not (self.replaces_answer() or self.delay or self.drop):
            raise ValueError("a Fault needs a status, a body, a delay or drop=True")
        if self.headers and not self.replaces_answer():
            raise ValueError("Fault headers go with a status or a body")

    def replaces_answer(self) -> bool:
        """Whether the fault's own status or body is sent instead of the normal answer."""
        return self.status is not None or self.body is not None


class RecordedRequest(NamedTuple):
    """A request as the server received it, in ``FakePeeringDB.requests``.

    ``path`` includes the query string; header names are title-cased ("Authorization",
    "User-Agent") so assertions do not depend on how a client spells them.
    """

    method: str
    path: str
    headers: dict[str, str]

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value of a repeated one)."""
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))


class Answer(NamedTuple):
    """What the server sends for one request."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = MappingProxyType({})


class _ApiError(Exception):
    """An API request the real PeeringDB would refuse: answered ``{"meta": {"error": message}}``."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- The server ------------------------------------------------------------------------------


class FakePeeringDB:
    """The PeeringDB REST API for ``objects`` plus static ``files``, on 127.0.0.1, in a thread.

    ``objects`` maps an object type ("net", "netixlan", "poc", ...) to its records (dicts with an
    "id"); it is read at every request, so a test may change it while the server runs to simulate
    an update.  ``None`` means ``sample_objects()``, and ``files=None`` means ``sample_files()``.
    """

    def __init__(
        self,
        objects: Mapping[str, list[dict[str, Any]]] | None = None,
        files: Mapping[str, bytes] | None = None,
        api_key: str | None = None,
        max_limit: int | None = 250,
    ) -> None:
        self.objects = sample_objects() if objects is None else objects
        self.files = sample_files() if files is None else files
        self.api_key = api_key
        self.max_limit = max_limit
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self._faults: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Listen on an ephemeral port of 127.0.0.1 and return the base URL "http://127.0.0.1:PORT"."""
        if self._httpd is not None:
            raise RuntimeError("FakePeeringDB is already running")
        self._stopping.clear()
        self._httpd = _Server((LOOPBACK, 0), _Handler, self)
        self.url = f"http://{LOOPBACK}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_INTERVAL},
            name=f"FakePeeringDB {self.url}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and close every connection, cutting short delays and idle keep-alives."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> FakePeeringDB:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail_next(self, path_prefix: str, *responses: Fault | Mapping[str, Any]) -> None:
        """Answer the next requests whose path (with query) starts with ``path_prefix`` with
        ``responses``, in order; normal answers resume once they are used up.

        Each response is a ``Fault`` or a dict of its fields, e.g. ``{"status": 429, "headers":
        {"Retry-After": "1"}}``, ``{"status": 503}``, ``{"body": b"{not json"}``, ``{"delay": 2}``,
        ``{"drop": True}``.  Prefixes are plain string prefixes: "/api/net" also matches
        "/api/netixlan"; use "/api/net?" or "/api/net/" to tell them apart.
        """
        faults = [r if isinstance(r, Fault) else Fault(**r) for r in responses]
        with self._lock:
            self._faults.extend((path_prefix, fault) for fault in faults)

    def respond(self, method: str, path: str, headers: Mapping[str, str]) -> Answer | None:
        """Record a request for ``path`` (with query) and return the answer, or None to drop the
        connection; the HTTP handler threads call this.  The fake is read-only: any method but
        GET is a 405 (after the scripted faults, which apply to every method)."""
        headers = {name.title(): value for name, value in headers.items()}
        with self._lock:
            self.requests.append(RecordedRequest(method, path, headers))
            fault = self._take_fault(path)
        if fault is not None:
            if fault.delay and self._stopping.wait(fault.delay):
                return None  # stopping: whoever waited has given up long ago
            if fault.drop:
                return None
            if fault.replaces_answer():
                status = fault.status or HTTPStatus.OK
                body = fault.body if fault.body is not None else _error_body(http.client.responses.get(status, "Error"))
                return Answer(status, body, headers=fault.headers)
        if method != "GET":
            return Answer(HTTPStatus.METHOD_NOT_ALLOWED, _error_body("Method not allowed"), headers={"Allow": "GET"})
        url = urlsplit(path)
        if url.path in self.files:
            content_type = "application/json" if url.path.endswith(".json") else "application/octet-stream"
            return Answer(HTTPStatus.OK, self.files[url.path], content_type)
        if not url.path.startswith("/api/"):
            return Answer(HTTPStatus.NOT_FOUND, b"Not Found\n", "text/plain")
        try:
            data = self._api(url.path, url.query, headers.get("Authorization"))
        except _ApiError as error:
            return Answer(error.status, _error_body(error.message))
        return Answer(HTTPStatus.OK, json.dumps(data).replace(BASE_URL, self.url).encode())

    def _take_fault(self, path: str) -> Fault | None:
        """The first queued fault for ``path``, removed from the queue; call with the lock held."""
        for index, (prefix, fault) in enumerate(self._faults):
            if path.startswith(prefix):
                del self._faults[index]
                return fault
        return None

    def _authenticated(self, authorization: str | None) -> bool:
        if authorization is None:
            return False
        if self.api_key is None or authorization != f"Api-Key {self.api_key}":
            raise _ApiError(HTTPStatus.UNAUTHORIZED, "Invalid API key")
        return True

    def _api(self, path: str, query: str, authorization: str | None) -> dict[str, Any]:
        """The JSON answer to an API GET; raises ``_ApiError`` for the refused ones."""
        authenticated = self._authenticated(authorization)
        parts = path.removeprefix("/api/").strip("/").split("/")
        object_type = parts[0]
        if object_type not in OBJECT_TYPES or len(parts) > 2:
            raise _ApiError(HTTPStatus.NOT_FOUND, f"Unknown object type: {object_type}")
        params = dict(parse_qsl(query, keep_blank_values=True))
        records = [r for r in self.objects.get(object_type, []) if _visible(object_type, r, authenticated)]
        if len(parts) == 2:
            records = [r for r in records if str(r["id"]) == parts[1]]
            if not records:
                raise _ApiError(HTTPStatus.NOT_FOUND, "Entity not found")
            depth = _int_parameter(params, "depth", _DEFAULT_SINGLE_DEPTH)
        else:
            records = self._page(object_type, records, params)
            depth = _int_parameter(params, "depth", _DEFAULT_LIST_DEPTH)
        answer = [self._expand(object_type, record, depth, authenticated) for record in records]
        if params.get("fields"):
            wanted = params["fields"].split(",")
            answer = [{key: record[key] for key in wanted if key in record} for record in answer]
        return {"data": answer, "meta": {}}

    def _page(self, object_type: str, records: list[dict[str, Any]], params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Filter, sort by id, skip and cut to the page size."""
        known_fields = _known_fields(object_type, records)
        for name, value in params.items():
            if name in _PAGING_PARAMETERS:
                continue
            field_name, dummy, modifier = name.partition("__")
            unknown_field = known_fields is not None and field_name not in known_fields
            if unknown_field or modifier not in _FILTER_MODIFIERS:
                raise _ApiError(HTTPStatus.BAD_REQUEST, f"Invalid filter field: {name}")
            records = [r for r in records if _matches(r.get(field_name), modifier, value)]
        records = sorted(records, key=lambda r: r["id"])
        skip = _int_parameter(params, "skip", 0)
        limit = _int_parameter(params, "limit", 0) or None  # 0 asks for everything
        if self.max_limit is not None:
            limit = self.max_limit if limit is None else min(limit, self.max_limit)
        end = None if limit is None else skip + limit
        return records[skip:end]

    def _expand(self, object_type: str, record: dict[str, Any], depth: int, authenticated: bool) -> dict[str, Any]:
        """A copy of ``record`` with its ``*_set`` fields expanded to ``depth``."""
        expanded = dict(record)
        if depth <= 0:
            return expanded
        for set_name, child_type, parent_key in SETS.get(object_type, ()):
            children = sorted(
                (
                    child
                    for child in self.objects.get(child_type, [])
                    if child.get(parent_key) == record["id"] and _visible(child_type, child, authenticated)
                ),
                key=lambda child: child["id"],
            )
            if depth == 1:
                expanded[set_name] = [child["id"] for child in children]
            else:
                expanded[set_name] = [
                    {key: value for key, value in child.items() if key != parent_key} for child in children
                ]
        return expanded


def _visible(object_type: str, record: Mapping[str, Any], authenticated: bool) -> bool:
    """Contacts not marked Public are hidden from anonymous users, as on peeringdb.com."""
    return authenticated or object_type != "poc" or record.get("visible") == "Public"


def _int_parameter(params: Mapping[str, str], name: str, default: int) -> int:
    if name not in params:
        return default
    try:
        value = int(params[name])
    except ValueError:
        raise _ApiError(HTTPStatus.BAD_REQUEST, f"{name} must be an integer") from None
    if value < 0:
        raise _ApiError(HTTPStatus.BAD_REQUEST, f"{name} must not be negative")
    return value


def _known_fields(object_type: str, records: list[dict[str, Any]]) -> set[str] | None:
    """The fields a filter may name: those of the sample world's records of the type (the real
    field names) and of the test's own.  None for a type with records in neither (netfac,
    carrier, ...): there is nothing to check a filter against, and it matches nothing anyway."""
    examples = _SAMPLE_OBJECTS.get(object_type, []) + records
    return {name for record in examples for name in record} or None


def _matches(value: Any, modifier: str, wanted: str) -> bool:
    """Whether a record's field ``value`` passes the filter ``field[__modifier]=wanted``."""
    if modifier == "in":
        return any(_equals(value, item) for item in wanted.split(","))
    if modifier == "contains":
        return value is not None and wanted.lower() in str(value).lower()
    if modifier == "startswith":
        return value is not None and str(value).lower().startswith(wanted.lower())
    return _equals(value, wanted)


def _equals(value: Any, wanted: str) -> bool:
    """Compare by the field's type, since query values are always strings."""
    if isinstance(value, bool):
        if wanted.lower() not in ("true", "false", "1", "0"):
            raise _ApiError(HTTPStatus.BAD_REQUEST, f"Invalid boolean: {wanted}")
        return value == (wanted.lower() in ("true", "1"))
    if isinstance(value, int):
        try:
            return value == int(wanted)
        except ValueError:
            raise _ApiError(HTTPStatus.BAD_REQUEST, f"Invalid number: {wanted}") from None
    return value is not None and str(value) == wanted


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer (daemon handler threads) that knows its FakePeeringDB and its open
    connections, so that ``stop()`` can close keep-alive and delayed ones instead of leaving handler
    threads blocked on them."""

    def __init__(
        self, address: tuple[str, int], handler: Callable[..., BaseHTTPRequestHandler], fake: FakePeeringDB
    ) -> None:
        super().__init__(address, handler)
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        """Clients that hang up (after their timeout, or when stop() cuts them off) are expected;
        anything else is a bug of this server and printed as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Carries a request to ``FakePeeringDB.respond`` and its answer (or a dropped connection) back."""

    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, like peeringdb.com, for clients that reuse connections
    server_version = "FakePeeringDB"

    def do_GET(self) -> None:  # pylint: disable=invalid-name  # the names http.server dispatches to
        self._answer("GET")

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        self._answer("POST")

    def do_PUT(self) -> None:  # pylint: disable=invalid-name
        self._answer("PUT")

    def do_PATCH(self) -> None:  # pylint: disable=invalid-name
        self._answer("PATCH")

    def do_DELETE(self) -> None:  # pylint: disable=invalid-name
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        # A request body would otherwise be read as the next request on a kept-alive connection.
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.server.fake.respond(method, self.path, dict(self.headers.items()))
        if answer is None:
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin  # base signature
        """Requests are in ``FakePeeringDB.requests``; printing them would only clutter test output."""


def _error_body(message: str) -> bytes:
    return json.dumps({"meta": {"error": message}}).encode()


# --- The pytest fixture ----------------------------------------------------------------------


@pytest.fixture
def peeringdb_server() -> Iterator[Callable[..., FakePeeringDB]]:
    """Factory: ``peeringdb_server(objects=None, files=None, api_key=None, max_limit=250)`` starts a
    ``FakePeeringDB`` (the sample world and its IX-F export by default) and returns it, running;
    ``server.url`` is its base URL.  Every server is stopped at teardown."""
    servers: list[FakePeeringDB] = []

    def make(
        objects: Mapping[str, list[dict[str, Any]]] | None = None,
        files: Mapping[str, bytes] | None = None,
        api_key: str | None = None,
        max_limit: int | None = 250,
    ) -> FakePeeringDB:
        server = FakePeeringDB(objects=objects, files=files, api_key=api_key, max_limit=max_limit)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


# --- The sample world ------------------------------------------------------------------------

_CREATED = "2021-03-01T09:00:00Z"
_UPDATED = "2024-05-02T10:00:00Z"

#: Example-IX's own number for its peering VLAN in the IX-F export; unrelated to PeeringDB's
#: ixlan id (1), as in real exports.
EXAMPLE_IX_VLAN_ID = 100


def _org(org_id: int, name: str, city: str, country: str) -> dict[str, Any]:
    return {
        "id": org_id, "name": name, "aka": "", "name_long": "", "website": "", "notes": "",
        "address1": "", "address2": "", "city": city, "country": country, "state": "", "zipcode": "",
        "created": _CREATED, "updated": _UPDATED, "status": "ok",
    }  # fmt: skip


def _fac(fac_id: int, org_id: int, name: str, city: str, country: str) -> dict[str, Any]:
    return {
        "id": fac_id, "org_id": org_id, "name": name, "aka": "", "name_long": "", "website": "",
        "clli": "", "rencode": "", "npanxx": "", "notes": "", "net_count": 0, "ix_count": 0,
        "address1": "", "address2": "", "city": city, "country": country, "state": "", "zipcode": "",
        "latitude": None, "longitude": None, "created": _CREATED, "updated": _UPDATED, "status": "ok",
    }  # fmt: skip


def _ix(ix_id: int, org_id: int, name: str, name_long: str, city: str, country: str, domain: str) -> dict[str, Any]:
    return {
        "id": ix_id, "org_id": org_id, "name": name, "aka": "", "name_long": name_long, "city": city,
        "country": country, "region_continent": "Europe", "media": "Ethernet", "notes": "",
        "proto_unicast": True, "proto_multicast": False, "proto_ipv6": True,
        "website": f"https://www.{domain}/", "url_stats": "", "tech_email": f"noc@{domain}",
        "tech_phone": "", "policy_email": f"peering@{domain}", "policy_phone": "",
        "created": _CREATED, "updated": _UPDATED, "status": "ok",
    }  # fmt: skip


def _ixlan(ixlan_id: int, ix_id: int, rs_asn: int, export_url: str) -> dict[str, Any]:
    return {
        "id": ixlan_id, "ix_id": ix_id, "name": "", "descr": "", "mtu": 1500, "dot1q_support": False,
        "rs_asn": rs_asn, "arp_sponge": None, "ixf_ixp_member_list_url_visible": "Public",
        "ixf_ixp_import_enabled": bool(export_url), "ixf_ixp_member_list_url": export_url,
        "created": _CREATED, "updated": _UPDATED, "status": "ok",
    }  # fmt: skip


def _ixpfx(ixpfx_id: int, ixlan_id: int, prefix: str) -> dict[str, Any]:
    return {
        "id": ixpfx_id, "ixlan_id": ixlan_id, "protocol": "IPv6" if ":" in prefix else "IPv4",
        "prefix": prefix, "in_dfz": True, "notes": "",
        "created": _CREATED, "updated": _UPDATED, "status": "ok",
    }  # fmt: skip


def _net(net_id: int, org_id: int, asn: int, name: str, domain: str, **fields: Any) -> dict[str, Any]:
    """A net record with every field of a real depth-0 answer; ``fields`` override the defaults."""
    record = {
        "id": net_id, "org_id": org_id, "name": name, "aka": "", "name_long": "",
        "website": f"https://www.{domain}/", "social_media": [], "asn": asn,
        "looking_glass": "", "route_server": "", "irr_as_set": "", "info_type": "NSP",
        "info_types": ["NSP"], "info_prefixes4": 10, "info_prefixes6": 5, "info_traffic": "",
        "info_ratio": "Balanced", "info_scope": "Regional", "info_unicast": True,
        "info_multicast": False, "info_ipv6": True, "info_never_via_route_servers": False,
        "ix_count": 0, "fac_count": 0, "notes": "", "netixlan_updated": _UPDATED,
        "netfac_updated": None, "poc_updated": _UPDATED, "policy_url": "",
        "policy_general": "Open", "policy_locations": "Not Required", "policy_ratio": False,
        "policy_contracts": "Not Required", "allow_ixp_update": False, "status_dashboard": "",
        "rir_status": "ok", "rir_status_updated": _UPDATED, "logo": None,
        "created": _CREATED, "updated": _UPDATED, "status": "ok",
    }  # fmt: skip
    record.update(fields)
    return record


def _netixlan(
    netixlan_id: int,
    net: Mapping[str, Any],
    ix: Mapping[str, Any],
    ipaddr4: str | None,
    ipaddr6: str | None,
    **fields: Any,
) -> dict[str, Any]:
    """A connection of ``net`` to the one LAN of ``ix`` (whose ixlan has the same id in this world)."""
    record = {
        "id": netixlan_id, "net_id": net["id"], "ix_id": ix["id"], "name": ix["name"], "ixlan_id": ix["id"],
        "notes": "", "speed": 10000, "asn": net["asn"], "ipaddr4": ipaddr4, "ipaddr6": ipaddr6,
        "is_rs_peer": True, "bfd_support": False, "operational": True, "net_side_id": None,
        "ix_side_id": None, "created": _CREATED, "updated": _UPDATED, "status": "ok",
    }  # fmt: skip
    record.update(fields)
    return record


def _poc(poc_id: int, net_id: int, role: str, visible: str, name: str, email: str) -> dict[str, Any]:
    return {
        "id": poc_id, "net_id": net_id, "role": role, "visible": visible, "name": name,
        "phone": "", "email": email, "url": "", "created": _CREATED, "updated": _UPDATED, "status": "ok",
    }  # fmt: skip


def sample_objects() -> dict[str, list[dict[str, Any]]]:
    """A small consistent PeeringDB world (a fresh copy per call), with the real field names.

    Documentation addresses and ASNs only (RFC 5737, RFC 3849, RFC 5398).  Besides the records
    below: one org per exchange and network, and one facility (org 8) that nothing refers to yet.

    Exchanges (ix id = ixlan id = org id):
      1 Example-IX (Amsterdam): 192.0.2.0/24 and 2001:db8:ffff::/64, route servers AS64511, IX-F
        export at ``BASE_URL + EXAMPLE_IX_EXPORT_PATH``;
      2 Sample-IX (Frankfurt): 198.51.100.0/24 and 2001:db8:eeee::/64, route servers AS64510, no
        IX-F export.
    Networks (net id, ASN, name: connections; contacts, role and visibility):
      1 AS64496 Alpha Networks: Example-IX .11/::11, Sample-IX .11/::11; Policy Public, NOC Public,
        Technical Users.
      2 AS64497 Bravo Transit: Example-IX ::12, IPv6 only (ipaddr4 null); NOC Public, no Policy.
      3 AS64498 Charlie Cloud: Sample-IX .13/::13; no contact at all.
      4 AS64499 Delta Hosting: Example-IX .14/::14, Sample-IX .14/::14 (not operational, not a
        route-server peer); Policy Public whose email carries a CR/LF header injection
        ("peering@example.net\\r\\nBcc: victim@example.org"), Technical Private.
      5 AS65536 Echo Broadband: Example-IX .15/::15; Policy Public "not-an-email", NOC Private.
    """
    example_ix = _ix(1, 1, "Example-IX", "Example Internet Exchange", "Amsterdam", "NL", "example-ix.example")
    sample_ix = _ix(2, 2, "Sample-IX", "Sample Internet Exchange", "Frankfurt", "DE", "sample-ix.example")
    alpha = _net(
        1, 3, 64496, "Alpha Networks", "alpha.example", irr_as_set="AS-ALPHA", info_prefixes4=40,
        info_prefixes6=20, policy_url="https://www.alpha.example/peering", ix_count=2,
    )  # fmt: skip
    bravo = _net(
        2, 4, 64497, "Bravo Transit", "bravo.example", irr_as_set="RIPE::AS-BRAVO", info_type="Cable/DSL/ISP",
        info_types=["Cable/DSL/ISP"], info_prefixes4=0, info_prefixes6=8, policy_general="Selective", ix_count=1,
    )  # fmt: skip
    charlie = _net(
        3, 5, 64498, "Charlie Cloud", "charlie.example", info_type="Content", info_types=["Content"],
        info_ratio="Heavy Outbound", info_prefixes4=100, info_prefixes6=50, ix_count=1,
    )  # fmt: skip
    delta = _net(
        4, 6, 64499, "Delta Hosting", "delta.example", irr_as_set="AS64499:AS-CUSTOMERS", info_type="Enterprise",
        info_types=["Enterprise"], policy_general="Restrictive", ix_count=2,
    )  # fmt: skip
    echo = _net(
        5, 7, 65536, "Echo Broadband", "echo.example", irr_as_set="AS-ECHO", info_prefixes4=25, info_prefixes6=10,
        ix_count=1,
    )  # fmt: skip
    return {
        "org": [
            _org(1, "Example-IX Association", "Amsterdam", "NL"),
            _org(2, "Sample-IX GmbH", "Frankfurt", "DE"),
            _org(3, "Alpha Networks Ltd", "Dublin", "IE"),
            _org(4, "Bravo Transit BV", "Rotterdam", "NL"),
            _org(5, "Charlie Cloud Inc", "Berlin", "DE"),
            _org(6, "Delta Hosting SA", "Brussels", "BE"),
            _org(7, "Echo Broadband Oy", "Helsinki", "FI"),
            _org(8, "Example Datacenters BV", "Amsterdam", "NL"),
        ],
        "fac": [_fac(1, 8, "Example DC Amsterdam 1", "Amsterdam", "NL")],
        "ix": [example_ix, sample_ix],
        "ixlan": [_ixlan(1, 1, 64511, BASE_URL + EXAMPLE_IX_EXPORT_PATH), _ixlan(2, 2, 64510, "")],
        "ixpfx": [
            _ixpfx(1, 1, "192.0.2.0/24"),
            _ixpfx(2, 1, "2001:db8:ffff::/64"),
            _ixpfx(3, 2, "198.51.100.0/24"),
            _ixpfx(4, 2, "2001:db8:eeee::/64"),
        ],
        "net": [alpha, bravo, charlie, delta, echo],
        "netixlan": [
            _netixlan(1, alpha, example_ix, "192.0.2.11", "2001:db8:ffff::11"),
            _netixlan(2, alpha, sample_ix, "198.51.100.11", "2001:db8:eeee::11"),
            _netixlan(3, bravo, example_ix, None, "2001:db8:ffff::12", speed=1000),
            _netixlan(4, charlie, sample_ix, "198.51.100.13", "2001:db8:eeee::13", speed=100000),
            _netixlan(5, delta, example_ix, "192.0.2.14", "2001:db8:ffff::14"),
            _netixlan(6, delta, sample_ix, "198.51.100.14", "2001:db8:eeee::14", is_rs_peer=False, operational=False),
            _netixlan(7, echo, example_ix, "192.0.2.15", "2001:db8:ffff::15"),
        ],
        "poc": [
            _poc(1, 1, "Policy", "Public", "Alpha Peering", "peering@alpha.example"),
            _poc(2, 1, "NOC", "Public", "Alpha NOC", "noc@alpha.example"),
            _poc(3, 1, "Technical", "Users", "Alpha Engineering", "engineering@alpha.example"),
            _poc(4, 2, "NOC", "Public", "Bravo NOC", "noc@bravo.example"),
            _poc(5, 4, "Policy", "Public", "Delta Peering", "peering@example.net\r\nBcc: victim@example.org"),
            _poc(6, 4, "Technical", "Private", "Delta Engineering", "engineering@delta.example"),
            _poc(7, 5, "Policy", "Public", "Echo Peering", "not-an-email"),
            _poc(8, 5, "NOC", "Private", "Echo NOC", "noc@echo.example"),
        ],
    }


def _ixf_member(asnum: int, name: str, *connections: list[dict[str, Any]]) -> dict[str, Any]:
    """A member_list entry; each connection is its vlan_list."""
    return {
        "asnum": asnum,
        "member_type": "peering",
        "name": name,
        "connection_list": [
            {"ixp_id": 1, "state": "active", "if_list": [{"switch_id": 1, "if_speed": 10000}], "vlan_list": vlans}
            for vlans in connections
        ],
    }


def _ixf_vlan(ipv4: str | None, ipv6: str | None, max_prefix: int, as_macro: str) -> dict[str, Any]:
    """A vlan_list entry on Example-IX's peering VLAN, for the address families given."""
    entry: dict[str, Any] = {"vlan_id": EXAMPLE_IX_VLAN_ID}
    for family, address in (("ipv4", ipv4), ("ipv6", ipv6)):
        if address is not None:
            entry[family] = {
                "address": address,
                "routeserver": True,
                "max_prefix": max_prefix,
                "as_macro": as_macro,
            }
    return entry


def sample_ixf_export() -> dict[str, Any]:
    """Example-IX's IX-F Member Export 1.0 (a fresh dict per call), agreeing with ``sample_objects()``
    except where noted.

    ixp_list: ixp_id 1, ixf_id 1, peeringdb_id 1, one VLAN (id ``EXAMPLE_IX_VLAN_ID``) on
    192.0.2.0/24 and 2001:db8:ffff::/64.  Members:
      AS64496 Alpha .11/::11 and AS64497 Bravo ::12 (IPv6 only), as in PeeringDB;
      AS64498 Charlie with an empty connection_list (a member without a port yet);
      AS64499 Delta .14/::14 and a second connection with 192.0.2.15, the address PeeringDB gives
        AS65536 Echo: the one address on which the two disagree;
      AS65536 Echo with 2001:db8:ffff::15 only;
      AS65537 Foxtrot Fibre .17/::17, a member only in IX-F (no net in PeeringDB).
    """
    return {
        "version": "1.0",
        "timestamp": _UPDATED,
        "ixp_list": [
            {
                "ixp_id": 1,
                "ixf_id": 1,
                "peeringdb_id": 1,
                "shortname": "Example-IX",
                "name": "Example Internet Exchange",
                "country": "NL",
                "url": "https://www.example-ix.example/",
                "support_email": "noc@example-ix.example",
                "vlan": [
                    {
                        "id": EXAMPLE_IX_VLAN_ID,
                        "name": "Peering LAN",
                        "ipv4": {"prefix": "192.0.2.0", "mask_length": 24},
                        "ipv6": {"prefix": "2001:db8:ffff::", "mask_length": 64},
                    }
                ],
            }
        ],
        "member_list": [
            _ixf_member(64496, "Alpha Networks", [_ixf_vlan("192.0.2.11", "2001:db8:ffff::11", 40, "AS-ALPHA")]),
            _ixf_member(64497, "Bravo Transit", [_ixf_vlan(None, "2001:db8:ffff::12", 8, "RIPE::AS-BRAVO")]),
            _ixf_member(64498, "Charlie Cloud"),
            _ixf_member(
                64499,
                "Delta Hosting",
                [_ixf_vlan("192.0.2.14", "2001:db8:ffff::14", 10, "AS64499:AS-CUSTOMERS")],
                [_ixf_vlan("192.0.2.15", None, 10, "AS64499:AS-CUSTOMERS")],
            ),
            _ixf_member(65536, "Echo Broadband", [_ixf_vlan(None, "2001:db8:ffff::15", 10, "AS-ECHO")]),
            _ixf_member(65537, "Foxtrot Fibre", [_ixf_vlan("192.0.2.17", "2001:db8:ffff::17", 5, "AS-FOXTROT")]),
        ],
    }


def sample_files() -> dict[str, bytes]:
    """The static files of the sample world: Example-IX's IX-F export at ``EXAMPLE_IX_EXPORT_PATH``."""
    return {EXAMPLE_IX_EXPORT_PATH: json.dumps(sample_ixf_export(), indent=2).encode()}


#: The sample world once, for the field names filters may use (``_known_fields``).
_SAMPLE_OBJECTS = sample_objects()
