"""The pipeline: what happens to a message between reading it and writing it on.

A message passes the stages of its direction in order. A stage that only watches (archive,
metrics) never asks for the UPDATE to be decoded, so a proxy without filtering stages forwards the
original bytes without decoding them (bgpipe's lazy model). Stages that change routes (rpki,
limit, filter) work on a decoded UPDATE; if any of them changed it, it is encoded again; if none
did, the original bytes go on.
"""
import logging
import time

from peerwarden_runner.codec import ErrorAction, framing
from peerwarden_runner.routes import Rib, RouteChange

LOG = logging.getLogger("peerwarden_runner.pipeline")
TO_ROUTER, TO_PEER = "to-router", "to-peer"


def other(direction):
    """The opposite direction of the same session."""
    return TO_PEER if direction == TO_ROUTER else TO_ROUTER


class SessionReset(Exception):
    """An UPDATE error RFC 7606 answers with a session reset: the NOTIFICATION to send."""

    def __init__(self, code, subcode, data, reason):
        super().__init__(reason)
        self.code, self.subcode, self.data = code, subcode, data


class SessionState:
    """Per session: the two OPENs and what they negotiated, and each stage's memory."""

    def __init__(self, session):
        self.session = session
        self.opens = {}
        self.contexts = {}
        self.memory = {}
        self.started = time.time()

    def extended(self, direction):
        context = self.contexts.get(direction)
        return bool(context and context.extended_message)


class Pipeline:
    def __init__(self, stages=None, watchers=None, metrics=None):
        """`stages`: direction -> list of route stages; `watchers`: stages that see every message
        (in both directions) after the route stages, exactly as it is written on."""
        self.stages = stages or {}
        self.watchers = list(watchers or []) + ([metrics] if metrics is not None else [])
        self.metrics = metrics
        self.sessions = set()

    def new_session(self, session):
        state = SessionState(session)
        self.sessions.add(state)
        for stage in self._all_stages():
            stage.session_started(state)
        return state

    def end_session(self, state):
        if state in self.sessions:
            self.sessions.discard(state)
            for stage in self._all_stages():
                stage.session_ended(state)

    def close(self):
        for stage in self._all_stages():
            stage.close()

    def _all_stages(self):
        seen = []
        for stages in self.stages.values():
            seen.extend(s for s in stages if s not in seen)
        seen.extend(s for s in self.watchers if s not in seen)
        return seen

    def process(self, state, direction, kind, raw):
        """The messages to write on for one message read (none when a stage dropped it)."""
        if kind == framing.OPEN:
            self._opened(state, direction, raw)
        outgoing = [raw]
        route_stages = self.stages.get(direction) or ()
        if kind == framing.UPDATE and route_stages and direction in state.contexts:
            outgoing = self._routes(state, direction, raw, route_stages)
        for out in outgoing:
            for watcher in self.watchers:
                watcher.crossed(state, direction, out)
        return outgoing

    def originated(self, state, direction, raw):
        """A message the runner writes on its own (a withdrawal after a VRP change, a Cease): the
        watchers see it like any other, so the archive holds everything that crossed."""
        for watcher in self.watchers:
            watcher.crossed(state, direction, raw)

    def _opened(self, state, direction, raw):
        from peerwarden_runner.codec.open_message import decode_open, negotiate  # decoded once per session
        state.opens[direction] = decode_open(raw)
        reverse = other(direction)
        if reverse in state.opens:
            # opens[d] travelled in direction d, so it is the OPEN of d's sender; negotiate takes the
            # receiver's OPEN first (what the receiver of a direction must expect)
            state.contexts[direction] = negotiate(state.opens[reverse], state.opens[direction])
            state.contexts[reverse] = negotiate(state.opens[direction], state.opens[reverse])

    def _routes(self, state, direction, raw, route_stages):
        rib = state.memory.setdefault(("rib", direction), Rib())
        change = RouteChange.from_update(raw, state.contexts[direction], rib, self.metrics)
        if change.update.error_action >= ErrorAction.AFI_SAFI_DISABLE:
            # RFC 7606: nothing else can be trusted in this session; end it with the NOTIFICATION
            error = change.update.error
            raise SessionReset(error.code, error.subcode, error.data, change.update.reason)
        for stage in route_stages:
            stage.update(state, direction, change)
        return change.encode()
