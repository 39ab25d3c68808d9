"""The speaker's HTTP API (aiohttp): read the session and the routes, announce and withdraw.

Anything that changes state needs `Authorization: Bearer <token>` (compared in constant time);
every route of a request is checked before any is applied, so a request is all or nothing; a body
over 64 KiB is refused. Every error is a JSON object {"error": "what is wrong (expected ...)"}.
"""

import hmac
import ipaddress
import json
import logging

from aiohttp import web

from peerwarden_runner.speaker.monitor import RPKI_STATES
from peerwarden_runner.speaker.route_spec import RouteError, parse_prefix, parse_route

LOG = logging.getLogger("peerwarden_runner.api")
MAX_BODY = 1024 * 1024  # 10,000 routes in one call fit; json.loads' depth is bounded below
MAX_DEPTH = 32  # no route object nests deeper
SPEAKER = web.AppKey("speaker", object)
TOKEN = web.AppKey("token", object)
HEALTHCHECKS = web.AppKey("healthchecks", list)


class ApiError(Exception):
    def __init__(self, status, message, **extra):
        super().__init__(message)
        self.status, self.extra = status, extra


def make_app(speaker, token, healthchecks=()):
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_json_errors])
    app[SPEAKER], app[TOKEN], app[HEALTHCHECKS] = speaker, token, list(healthchecks)
    app.router.add_get("/status", status)
    app.router.add_get("/routes/announced", announced)
    app.router.add_get("/routes/received", received)
    app.router.add_post("/routes", announce)
    app.router.add_delete("/routes", withdraw)
    return app


async def start_api(app, host, port):
    """Serve `app` on host:port; the AppRunner, to clean up with `await runner.cleanup()`."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    LOG.info("API listening on http://%s:%d", "[%s]" % host if ":" in host else host, port)
    return runner


def _error(status, message, **extra):
    return web.json_response(dict(error=message, **extra), status=status)


@web.middleware
async def _json_errors(request, handler):
    try:
        return await handler(request)
    except ApiError as error:
        return _error(error.status, str(error), **error.extra)
    except RouteError as error:
        return _error(400, str(error), field=error.field)
    except web.HTTPException as error:  # unknown path, wrong method: JSON too
        if error.status < 400:
            raise
        return _error(error.status, "%s %s: %s" % (request.method, request.path, error.reason))
    except Exception:  # noqa: BLE001 - a request never crashes the runner
        LOG.exception("API: %s %s failed", request.method, request.path)
        return _error(500, "internal error (see the runner's log)")


def _require_token(request):
    token = request.app[TOKEN]
    if not token:
        raise ApiError(
            403,
            "the API is read-only: no token configured (expected --api-token-file, api.token_file "
            "or PEERWARDEN_API_TOKEN)",
        )
    scheme, dummy, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        LOG.warning("API: %s %s from %s refused: missing or wrong token", request.method, request.path, request.remote)
        raise ApiError(401, "missing or wrong token (expected the header Authorization: Bearer <token>)")


async def _json_body(request):
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "body of %d octets (expected at most %d)" % (request.content_length, MAX_BODY))
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "body over %d octets" % MAX_BODY) from None
    depth = deepest(raw)
    if depth > MAX_DEPTH:
        raise ApiError(400, "the body nests %d levels deep (expected at most %d)" % (depth, MAX_DEPTH))
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ApiError(400, "the body is not JSON (%s); expected a JSON object or list" % error) from None


def deepest(raw):
    """How deep the brackets of a JSON text nest (strings skipped), counted before parsing: a body
    30,000 levels deep is refused with 400 instead of exhausting the parser's recursion."""
    depth = deepest_seen = 0
    in_string = escaped = False
    for octet in raw:
        if in_string:
            if escaped:
                escaped = False
            elif octet == 0x5C:  # backslash
                escaped = True
            elif octet == 0x22:
                in_string = False
        elif octet == 0x22:
            in_string = True
        elif octet in (0x5B, 0x7B):
            depth += 1
            deepest_seen = max(deepest_seen, depth)
            if depth > MAX_DEPTH:
                return depth
        elif octet in (0x5D, 0x7D):
            depth -= 1
    return deepest_seen


def _items(body, what):
    """One object or a list of them; (items, the key prefix for error messages)."""
    if isinstance(body, list):
        if not body:
            raise ApiError(400, "an empty list (expected at least one %s)" % what)
        return body, "[%d]"
    return [body], ""


async def status(request):
    body = request.app[SPEAKER].status()
    body["healthchecks"] = [check.status() for check in request.app[HEALTHCHECKS]]
    return web.json_response(body)


async def announced(request):
    speaker = request.app[SPEAKER]
    return web.json_response(
        {
            "routes": [
                dict(spec.to_json(), source=source)
                for spec, source in sorted(speaker.desired.values(), key=lambda item: item[0].prefix)
            ]
        }
    )


def _covered_by(text):
    """?prefix=P: a test for the received prefixes equal to P or inside it (400 for anything but a network)."""
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        raise ApiError(
            400, "?prefix=%s: %s (expected a network such as 192.0.2.0/24 or 2001:db8::/32)" % (text, error)
        ) from None
    return lambda prefix: (
        network.version == (6 if ":" in str(prefix) else 4) and ipaddress.ip_network(str(prefix)).subnet_of(network)  # type: ignore[arg-type]  # same version
    )


async def received(request):
    """GET /routes/received; ?rpki=STATE keeps the routes in that RPKI state (a monitor with the rpki stage),
    ?prefix=P the routes equal to or inside P."""
    speaker = request.app[SPEAKER]
    monitor = speaker.monitor
    wanted_prefix = request.query.get("prefix")
    select = _covered_by(wanted_prefix) if wanted_prefix is not None else None
    routes = speaker.received.to_json(monitor.notes if monitor is not None else None, select)
    wanted = request.query.get("rpki")
    if wanted is not None:
        if monitor is None or "rpki" not in monitor.names:
            raise ApiError(
                400,
                "?rpki= needs the rpki stage in this speaker's stages (it has %s)"
                % (", ".join(monitor.names) if monitor is not None else "none"),
            )
        if wanted not in RPKI_STATES:
            raise ApiError(400, "?rpki=%s: expected one of %s" % (wanted, ", ".join(RPKI_STATES)))
        routes = [route for route in routes if route.get("rpki") == wanted]
    return web.json_response({"routes": routes})


async def announce(request):
    """POST /routes: one route object or a list of them."""
    _require_token(request)
    speaker = request.app[SPEAKER]
    items, index = _items(await _json_body(request), "route")
    specs = []
    for number, item in enumerate(items):
        where = "route" + (index % number if index else "")
        if not isinstance(item, dict):  # the configuration's bare "PREFIX" shorthand is not for the API
            raise RouteError(where, 'expected an object like {"prefix": "192.0.2.0/24"}, got %s' % type(item).__name__)
        spec = parse_route(item, where, local=speaker.settings.local, ebgp=speaker.ebgp)
        if spec.prefix.endswith("/0"):
            raise RouteError(where + ".prefix", "%s is a default route: the API does not announce one" % spec.prefix)
        specs.append(spec)
    speaker.announce(specs, "api")
    return web.json_response({"announced": [spec.to_json() for spec in specs], "state": speaker.state})


async def withdraw(request):
    """DELETE /routes: {"prefix": P}, a list of those (or of prefix strings), or ?prefix=P (repeatable)."""
    _require_token(request)
    speaker = request.app[SPEAKER]
    if "prefix" in request.query:
        items, index = request.query.getall("prefix"), "[%d]"
    else:
        items, index = _items(await _json_body(request), "prefix")
    prefixes = []
    for number, item in enumerate(items):
        where = "route" + (index % number if index else "")
        if isinstance(item, dict):
            unknown = sorted(set(item) - {"prefix"})
            if unknown or "prefix" not in item:
                raise RouteError(
                    where,
                    'expected {"prefix": "192.0.2.0/24"}, got the keys %s' % ", ".join(sorted(item))
                    if item
                    else 'expected {"prefix": "192.0.2.0/24"}',
                )
            item = item["prefix"]
        prefixes.append(parse_prefix(item, where + ".prefix"))
    removed = speaker.withdraw(prefixes)
    missing = [prefix for prefix in prefixes if prefix not in removed]
    if not removed:
        raise ApiError(
            404, "not announced: %s (GET /routes/announced lists what is)" % ", ".join(missing), not_announced=missing
        )
    return web.json_response({"withdrawn": removed, "not_announced": missing, "state": speaker.state})
