"""AS_PATH verification with ASPA inline (rpki/aspa.py): routes whose path is Invalid do not reach the
receiver; when the ASPAs change, routes already passed are verified again and withdrawn, and routes
held back are announced.

Where the ASPAs come from (`file`, `rtr`, or both): rpki-client's JSON file (its "aspas"), and the
rpki stage's RTR caches speaking version 2 (draft-ietf-sidrops-8210bis-27, its ASPA PDU). With both,
the set is their union (rpki/aspa_union.py: a customer's providers from either source).

Roles: a session's `role` is what the peer is to us (RFC 9234, as the alert stage reads it: customer,
provider, peer, or rs for a route server). Towards the router the sender is the peer, with that role;
towards the peer the sender is our router, with the opposite role (we are a customer's provider, a
provider's customer, a peer's peer, a route server's rs-client). A route sent by a provider is
verified downstream, any other upstream; the sender's AS (its OPEN) must head the path, except from a
transparent route server. iBGP (both OPENs with one AS) is not verified.

One stage for the runner holds the ASPA set (`AspaStage`); each session gets a view bound to its
role (`bind`). Every route's AS path is remembered per session and direction (shared by the routes
of an UPDATE), so that a change of the set can verify it again; each distinct path once per change.
"""

import asyncio
import logging
from collections import Counter

from peerwarden_runner.directions import TO_PEER, TO_ROUTER
from peerwarden_runner.log_summary import DECISIONS, session_name
from peerwarden_runner.route_keys import key_prefix
from peerwarden_runner.routes import encode_routes
from peerwarden_runner.rpki.aspa import AspaValidity, verify_path
from peerwarden_runner.schema import boolean, obj, string
from peerwarden_runner.stages.base import Scope, Stage
from peerwarden_runner.stages.open_asns import direction_asns
from peerwarden_runner.stages.rpki import RTR_ASPAS

LOG = logging.getLogger("peerwarden_runner.aspa")
INVALID = AspaValidity.INVALID
SLICE = 1024  # routes verified again between two turns of the event loop (each distinct path once per slice)
# the sender's role for each direction, from the session's role (what the peer is to us)
SENDER_ROLE = {
    TO_ROUTER: {"customer": "customer", "provider": "provider", "peer": "peer", "rs": "rs"},
    TO_PEER: {"customer": "provider", "provider": "customer", "peer": "peer", "rs": "rs-client"},
}
REASON = "aspa: "
EXPECTED = (
    "'file: PATH' (rpki-client's JSON output, with its 'aspas') and/or 'rtr: true' (the rpki stage's RTR v2 caches)"
)
__all__ = ["AspaStage"]


class AspaStage(Stage):
    """Route stage: the runner's one ASPA set; sessions use `bind(context)` views of it."""

    name = "aspa"
    scope = Scope.RUNNER
    watch_refusal = "aspa holds routes back from a receiver; it does not run on a speaker's monitor yet"

    @classmethod
    def schema(cls):
        return obj(
            {
                "file": string(expected="an ASPA JSON file (rpki-client's, with its 'aspas')"),
                "rtr": boolean(),
            },
            expected=EXPECTED,
        )

    @classmethod
    def check(cls, section, problem):
        if section is None:
            return None
        if not isinstance(section, dict) or not (section.get("file") or section.get("rtr")):
            problem("aspa", "expected " + EXPECTED)
            return None
        return {"file": section.get("file"), "rtr": section.get("rtr") is True}

    @classmethod
    def check_config(cls, config, problem):
        if not config["aspa"]["rtr"]:
            return
        caches = (config.get("rpki") or {}).get("caches")
        if not caches:
            problem("aspa.rtr", "ASPAs over RTR come from the rpki stage's caches: add 'rpki: {caches: [...]}'")
        elif all(cache.get("version") is not None and cache["version"] < 2 for cache in caches):
            problem(
                "aspa.rtr", "every rpki cache is pinned below version 2 (rpki.caches[].version), which has no ASPAs"
            )

    @classmethod
    def check_users(cls, section, users, problem):
        for key, entry, names in users:
            if cls.name in names and entry.get("role") is None:
                problem(
                    key if key.endswith(".stages") else key + ".role",
                    "the aspa stage needs the session's role (what the peer is to us: customer, provider, peer or rs)",
                )

    @classmethod
    def build(cls, section, context):
        return cls(file=section["file"], rtr=section["rtr"], metrics=context.metrics, shared=context.shared)

    def __init__(self, aspas=None, file=None, metrics=None, rtr=False, shared=None):
        """`aspas`: a fixed set (tests, fuzzers); or where `start` takes them from: `file`, and with
        `rtr` the RTR client's AspaTable the rpki stage left in `shared`."""
        self.aspas = dict(aspas or {})
        self.file, self.metrics, self.rtr, self.shared = file, metrics, rtr, shared if shared is not None else {}
        self.sessions = {}  # id(state) -> (state, role)
        self._pending, self._worker, self.slice_size = False, None, SLICE

    async def start(self):
        """Load the file (a missing or broken file at start is an error) and take the RTR client's ASPAs
        (the rpki stage started first and waited for a first sync); the task that keeps watching the file.
        Each change of either is verified again (`schedule`)."""
        if not (self.file or self.rtr):
            return []
        from peerwarden_runner.rpki.aspa_union import AspaUnion

        union, tasks = AspaUnion(), []
        if self.file:
            from peerwarden_runner.rpki.aspa_file_watcher import AspaFileWatcher

            watcher = AspaFileWatcher(self.file, poll_interval=1.0)
            await watcher.load()
            file_aspas = union.source()
            file_aspas.replace_all(watcher.aspas)
            watcher.on_change = lambda changed: file_aspas.replace_all(watcher.aspas)
            tasks.append(watcher.start())
        if self.rtr:
            if RTR_ASPAS not in self.shared:  # config.check refuses rtr without rpki caches
                raise RuntimeError("aspa: rtr is set but the rpki stage has no RTR caches")
            union.source(self.shared[RTR_ASPAS])
        self.aspas = union.aspas
        LOG.info("aspa: %d ASPAs (%s)", len(self.aspas), " and ".join(filter(None, (self.file, self.rtr and "RTR"))))
        union.on_change = lambda changed: self.schedule(union.aspas)
        return tasks

    def bind(self, context):
        """The stage a session lists: this set, that session's role."""
        return AspaSessionStage(self, context.role)

    # ---- verification ----

    def verdict(self, path, role, direction, sender_as, receiver_as):
        """(validity, why) of a path sent in `direction` by AS `sender_as` to `receiver_as` (direction_asns:
        None where the OPEN is not known); None for iBGP."""
        if sender_as is not None and sender_as == receiver_as:
            return None
        return verify_path(path, self.aspas, SENDER_ROLE[direction][role], sender_as)

    def update(self, state, direction, change, role):
        memory = state.memory.setdefault(("aspa", direction), {})
        if change.withdrawn:
            for key in change.withdrawn_keys:
                memory.pop(key, None)
        routes = change.routes
        if not routes:
            return
        path = change.full_as_path()
        found = self.verdict(path, role, direction, *direction_asns(state, direction))
        if found is None:
            return
        memory.update(dict.fromkeys(change.keys, path))
        validity, why = found
        if self.metrics is not None:
            self.metrics.aspa_validated(validity, len(routes))
        if validity is INVALID:
            refused = change.refused
            for route in routes:
                if not (refused and route[0] in refused):  # a stage before this one holds it: its reason stays
                    change.hold(route, self.name, "invalid path (%s)" % why)
            # counted, one INFO line per interval (log_summary); each route at DEBUG
            name = session_name(state)
            for route in routes:
                DECISIONS.record(LOG, name, self.name, "held back: invalid path", "%s path %s: %s", route[0], path, why)

    # ---- the set changes ----

    def aspas_changed(self, aspas):
        """Use the new set and verify every remembered route again, all at once; send what follows.
        (announced again, withdrawn). (Outside an event loop: tests, fuzzers; the runner uses `schedule`.)"""
        self.aspas = dict(aspas)
        totals = [0, 0]
        for state, direction, role, memory, rib in self._ribs():
            found = self._revalidate(state, direction, role, memory, rib, list(memory))
            totals[0], totals[1] = totals[0] + found[0], totals[1] + found[1]
        return self._log(totals)

    def schedule(self, aspas):
        """Use the new set now (UPDATEs that arrive are verified against it) and verify the routes again in
        the background, SLICE routes between two turns of the event loop; a change that comes meanwhile
        restarts the pass once this one ends."""
        self.aspas = dict(aspas)
        self._pending = True
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def wait_verified(self):
        """Until no re-verification runs or waits."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)

    async def _work(self):
        while self._pending:
            self._pending = False
            totals = [0, 0]
            try:
                for state, direction, role, memory, rib in self._ribs():
                    keys = list(memory)
                    for first in range(0, len(keys), self.slice_size):
                        if self.sessions.get(id(state), (None,))[0] is not state:
                            break  # the session ended meanwhile
                        found = self._revalidate(
                            state, direction, role, memory, rib, keys[first : first + self.slice_size]
                        )
                        totals[0], totals[1] = totals[0] + found[0], totals[1] + found[1]
                        await asyncio.sleep(0)
            except Exception:  # noqa: BLE001  (a bug here must not stop later re-verifications)
                LOG.exception("aspa: re-verification failed")
            self._log(totals)

    def _ribs(self):
        """(state, direction, role, paths remembered, RIB) of every direction verified, in every session."""
        for state, role in list(self.sessions.values()):
            for direction in (TO_ROUTER, TO_PEER):
                memory, rib = state.memory.get(("aspa", direction)), state.memory.get(("rib", direction))
                if memory and rib is not None:
                    yield state, direction, role, memory, rib

    @staticmethod
    def _log(totals):
        """(announced again, withdrawn); each route was counted in log_summary."""
        return tuple(totals)

    def _revalidate(self, state, direction, role, memory, rib, keys):
        """Verify the routes of `keys` again, each with its path as it is now; send what follows.
        (announced again, withdrawn)."""
        sender_as, receiver_as = direction_asns(state, direction)
        verdicts: dict[int, AspaValidity] = {}
        validities: Counter[AspaValidity] = Counter()
        announce, withdraw = [], []
        decoded: dict[bytes, object] = {}  # attribute sections decoded once: routes that shared one share it again
        paths, holds = rib.paths, rib.holds
        record, name = DECISIONS.record, session_name(state)  # counted, one INFO line per interval; each at DEBUG
        for key in keys:
            path = memory.get(key, memory)
            if path is memory:
                continue  # withdrawn meanwhile
            if key not in paths:
                del memory[key]  # withdrawn by a stage that ran before this one
                continue
            if id(path) not in verdicts:
                verdicts[id(path)] = self.verdict(path, role, direction, sender_as, receiver_as)[0]
            validity = verdicts[id(path)]
            validities[validity] += 1
            held = holds.get(key)
            if held is None and validity is INVALID:
                holds[key] = REASON + "invalid after an ASPA change"
                withdraw.append(key_prefix(key))
                record(
                    LOG, name, self.name, "held back: invalid after an ASPA change", "%s path %s", withdraw[-1], path
                )
            elif held is not None and held.startswith(REASON) and validity is not INVALID:
                del holds[key]
                announce.append(rib.route(key, decoded))
                record(LOG, name, self.name, "released: no longer invalid after an ASPA change", "%s", key_prefix(key))
        if self.metrics is not None:  # a re-validation is a validation, a withdrawal a route held back
            for validity, count in validities.items():
                self.metrics.aspa_validated(validity, count)
            for dummy in withdraw:
                self.metrics.route_held(self.name)
        if announce or withdraw:
            for raw in encode_routes(announce, withdraw, state.contexts[direction]):
                state.session.send(direction, raw)
        return len(announce), len(withdraw)

    def close(self):
        if self._worker is not None:
            self._worker.cancel()


class AspaSessionStage(Stage):
    """One session's view of the runner's AspaStage: its role, the shared set."""

    name = "aspa"

    def __init__(self, shared, role):
        self.shared, self.role = shared, role

    def session_started(self, state):
        self.shared.sessions[id(state)] = (state, self.role)

    def session_ended(self, state):
        self.shared.sessions.pop(id(state), None)

    def update(self, state, direction, change):
        self.shared.update(state, direction, change, self.role)
