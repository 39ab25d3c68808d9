"""The alert stage: watches routes for hijacks of our space, route leaks, first-AS mismatches and
our AS inside foreign paths (alert_detectors), and reports each: a log line, a Prometheus count
(peerwarden_alerts{kind,session}) and the sinks (alert_sinks). It never changes a route: dropping
is the rpki and filter stages' job.

An alert is raised once per session, direction, route, kind and origin: a route announced again
unchanged (a flap, a refresh) is not reported again until it is withdrawn, announced without the
problem, or from another origin. A detector that fails is logged and counted, never raised into
the pipeline.
"""

import json
import logging
import time
from logging import WARNING
from typing import Any

from peerwarden_runner import schema as s
from peerwarden_runner.log_summary import DECISIONS
from peerwarden_runner.stages.alert_config import check_alert
from peerwarden_runner.stages.alert_detectors import path_findings, space_findings
from peerwarden_runner.stages.alert_sinks import REPORT_EVERY
from peerwarden_runner.stages.alert_space import OwnSpace
from peerwarden_runner.stages.base import Scope, Stage
from peerwarden_runner.stages.open_asns import direction_asns

LOG = logging.getLogger("peerwarden_runner.alert")
_LOG_FIELDS = (
    "kind",
    "prefix",
    "origin",
    "path",
    "session",
    "direction",
    "owned",
    "relation",
    "via",
    "first_as",
    "held",
)


class AlertStage(Stage):
    """Route stage that only watches, one per session for both directions; the sinks are the runner's."""

    name = "alert"
    scope = Scope.SESSION
    watch_ok = True
    needs_wait_closed = True
    check = staticmethod(check_alert)

    @classmethod
    def schema(cls):
        entry = s.obj(
            {
                "prefix": s.string(expected="ADDRESS/LENGTH"),
                "origins": s.list_of(s.asn(), expected="a list of AS numbers"),
                "max_length": s.integer(0, 128),
            },
            required=["prefix"],
        )
        return s.obj(
            {
                "prefixes": s.list_of(
                    entry, expected="a list of {prefix: ADDRESS/LENGTH, origins: [ASN, ...], max_length: N}"
                ),
                "asns": s.list_of(s.asn(), expected="a list of AS numbers"),
                "transit_free": s.list_of(s.asn(), expected="a list of AS numbers"),
                "less_specifics": s.boolean(),
                "file": s.string(expected="a file"),
                "exec": s.program(),
                "webhook": s.string(r"^https?://", "an http:// or https:// URL"),
                "timeout": s.duration_value(),
                "queue": s.integer(1),
            }
        )

    @classmethod
    def check_users(cls, section, users, problem):
        """A session or speaker using the alert stage needs something to watch for: our prefixes, our
        ASes or its role."""
        if section is None or section["prefixes"] or section["asns"]:
            return
        for key, entry, names in users:
            if not entry["role"] and "alert" in names:
                what = "speaker" if key.startswith("speakers") else "session"
                problem(
                    key,
                    "uses the alert stage but it has nothing to watch for here: give alert.prefixes (our "
                    "space), alert.asns (our ASes) or the %s a role (peer, customer, provider, rs)" % what,
                )

    @classmethod
    def build(cls, section, context):
        sinks = context.shared.get("alert_sinks")
        if sinks is None:  # one set of sinks for the runner, made when the first session uses alerts
            from peerwarden_runner.stages.alert_sinks import AlertSinks

            sinks = context.shared["alert_sinks"] = AlertSinks(section, context.metrics)
        return cls(section, sinks, context.session_name, context.role, context.metrics)

    def __init__(self, section, sinks=None, session_name="session", role=None, metrics=None):
        """`section`: the checked alert section (check_alert); `sinks`: the shared AlertSinks;
        `role`: what the peer of this session is to us (peer, customer, provider, rs) or None."""
        self.space = OwnSpace(section.get("prefixes", ()))
        self.less_specifics = section.get("less_specifics", True)
        self.transit_free = frozenset(section.get("transit_free", ()))
        self.own_asns = frozenset(section.get("asns", ()))
        self.sinks, self.session_name, self.role, self.metrics = sinks, session_name, role, metrics
        self.path_checks = bool(role or self.own_asns)
        self.last_failure = -REPORT_EVERY
        if sinks is not None:
            sinks.acquire()

    def update(self, state, direction, change):
        try:
            alerts = self._alerts(state, direction, change)
        except Exception:  # noqa: BLE001  (a detector's bug must not break the session)
            if self.metrics is not None:
                self.metrics.alert_error("detector")
            now = time.monotonic()
            if now - self.last_failure >= REPORT_EVERY:
                self.last_failure = now
                LOG.exception(
                    "alert %s: a detector failed on an UPDATE (%s); the UPDATE passes on", self.session_name, direction
                )
            return
        if alerts:
            self._report(alerts)

    def _alerts(self, state, direction, change):
        active = state.memory.get(("alert", direction))
        if active:
            for key in change.withdrawn_keys:
                active.pop(key, None)
        routes = change.routes
        if not routes:
            return ()
        origin = change.origin
        path = change.full_as_path() if self.path_checks or self.space else None
        shared = []
        if self.path_checks:
            sender_as, receiver_as = direction_asns(state, direction)
            shared = path_findings(
                path,
                origin,
                direction,
                self.role,
                sender_as,
                receiver_as,
                self.transit_free,
                self.own_asns,
            )
        match = self.space.match if self.space else None
        less_specifics = self.less_specifics
        keys: Any = change.keys if active is not None else None  # route keys, made only once a route needs them
        alerts = []
        for position, route in enumerate(routes):
            prefix = route[0]
            found = match(prefix[0], prefix[2], prefix[3]) if match is not None else None  # afi, length, packed
            findings = shared + list(space_findings(found, prefix, origin, less_specifics)) if found else shared
            if not findings:
                if active:
                    active.pop(keys[position], None)
                continue
            if active is None:  # the first alert of the session: later routes of this UPDATE need their keys too
                active = state.memory[("alert", direction)] = {}
                keys = change.keys
            key = keys[position]
            before = active.get(key, ())
            now = tuple((finding.kind, origin) for finding in findings)
            active[key] = now
            for finding, seen in zip(findings, now):
                if seen not in before:
                    alerts.append(self._record(finding, prefix, origin, path, direction, change))
        return alerts

    def _record(self, finding, prefix, origin, path, direction, change):
        record = {
            "time": round(time.time(), 3),
            "kind": finding.kind,
            "session": self.session_name,
            "direction": direction,
            "prefix": str(prefix),
            "origin": origin,
            "path": str(path) if path is not None else None,
            "detail": finding.detail,
        }
        record.update(finding.fields)
        held = change.refused.get(prefix)
        if held is not None:
            record["held"] = held
        return record

    def _report(self, alerts):
        for record in alerts:  # counted per kind, one WARNING line per interval (log_summary); each at DEBUG
            text = " ".join(
                "%s=%s" % (field, _value(record[field])) for field in _LOG_FIELDS if record.get(field) is not None
            )
            DECISIONS.record(LOG, self.session_name, "alert", record["kind"], text, level=WARNING, unit="alert(s)")
            if self.metrics is not None:
                self.metrics.alerted(record["kind"], self.session_name)
        if self.sinks is not None:
            try:
                self.sinks.deliver(alerts)
            except Exception:  # noqa: BLE001  (the sinks catch their own failures; this is a last guard)
                LOG.exception("alert %s: the sinks failed", self.session_name)
                if self.metrics is not None:
                    self.metrics.alert_error("sinks")

    def close(self):
        if self.sinks is not None:
            self.sinks.release()

    async def wait_closed(self):
        if self.sinks is not None:
            await self.sinks.wait_closed()


def _value(value):
    """A log field: plain when it has no space, else quoted like JSON."""
    text = str(value)
    return json.dumps(text) if not text or " " in text or '"' in text else text
