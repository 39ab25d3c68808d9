"""The pipeline: what happens to a message between reading it and writing it on.

A message passes the stages of its direction in order. A stage that only watches (archive,
metrics) never asks for the UPDATE to be decoded, so a proxy without filtering stages forwards the
original bytes without decoding them (bgpipe's lazy model). Stages that change routes (rpki,
limit, filter) work on a decoded UPDATE; if any of them changed it, it is encoded again; if none
did, the original bytes go on.

A speaker that monitors (WATCH mode, `watch_update`) runs the route stages on the UPDATEs it
received, already decoded: their verdicts are recorded in the RIB, and nothing is written anywhere.

Message stages (exec) take a whole message and answer the messages that replace it; in a
direction's list they come before or after the route stages. A stage that must wait for an answer
(an exec filter) makes the pipeline asynchronous: the proxy then awaits `process_async`, and a
pipeline without one keeps the synchronous `process`.
"""

import logging
import time
from logging import WARNING

from peerwarden_runner.codec import ErrorAction, framing
from peerwarden_runner.codec.attribute_blocks import AttributeBlocks
from peerwarden_runner.codec.fast_update import scan_update
from peerwarden_runner.directions import RECEIVED, SENT, TO_PEER, TO_ROUTER, other
from peerwarden_runner.log_summary import DECISIONS, session_name
from peerwarden_runner.routes import Rib, RouteChange, ScannedChange
from peerwarden_runner.stages.base import Kind, Stage

LOG = logging.getLogger("peerwarden_runner.pipeline")
__all__ = ["RECEIVED", "SENT", "TO_PEER", "TO_ROUTER", "Pipeline", "SessionReset", "SessionState", "other", "plan"]


NO_PLAN = ((), (), ())


def plan(stages):
    """A direction's stages as (message stages before, route stages, message stages after): the
    route stages run together on one decoded UPDATE (config checking keeps message stages from
    sitting between them)."""
    routes = [index for index, stage in enumerate(stages) if stage.kind is not Kind.MESSAGE]
    if not routes:
        return tuple(stages), (), ()
    first, last = routes[0], routes[-1]
    between = [stage for stage in stages[first : last + 1] if stage.kind is Kind.MESSAGE]
    return (
        tuple(stages[:first]),
        tuple(s for s in stages[first : last + 1] if s not in between),
        tuple(between) + tuple(stages[last + 1 :]),
    )


class SessionReset(Exception):
    """An UPDATE error RFC 7606 answers with a session reset: the NOTIFICATION to send."""

    def __init__(self, code, subcode, data, reason):
        super().__init__(reason)
        self.code, self.subcode, self.data = code, subcode, data


class SessionState:
    """Per session: the two OPENs and what they negotiated, each stage's memory, and `endpoints`:
    direction -> (sender's address, receiver's address), when the proxy knows them."""

    def __init__(self, session, endpoints=None):
        self.session = session
        self.endpoints = endpoints or {}
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
        self.plans = {direction: plan(stages) for direction, stages in self.stages.items()}
        self.asynchronous = any(stage.awaits for stage in self._all_stages())
        # codec.fast_update for the UPDATEs of common shapes (False: always the full decoder, for tests)
        self.fast = True

    def new_session(self, session, endpoints=None):
        state = SessionState(session, endpoints)
        self.sessions.add(state)
        for stage in self._all_stages():
            stage.session_started(state)
        return state

    def end_session(self, state):
        if state in self.sessions:
            self.sessions.discard(state)
            for stage in self._all_stages():
                stage.session_ended(state)
            DECISIONS.flush(session_name(state))  # nothing counted is lost

    def close(self):
        for stage in self._all_stages():
            stage.close()
        DECISIONS.flush()

    async def aclose(self):
        """close(), then wait for the stages that stop something outside (an exec program)."""
        self.close()
        for stage in self._all_stages():
            if stage.needs_wait_closed:
                await stage.wait_closed()

    def _all_stages(self):
        seen: list[Stage] = []
        for stages in self.stages.values():
            seen.extend(s for s in stages if s not in seen)
        seen.extend(s for s in self.watchers if s not in seen)
        return seen

    def process(self, state, direction, kind, raw):
        """The messages to write on for one message read (none when a stage dropped it)."""
        if kind == framing.OPEN:
            self._opened(state, direction, raw)
        before, route_stages, after = self.plans.get(direction) or NO_PLAN
        if before or after:
            outgoing = [raw]
            for stage in before:
                outgoing = [out for message in outgoing for out in stage.message(state, direction, message)]
            if route_stages and direction in state.contexts:
                outgoing = self._route_stages(state, direction, outgoing, route_stages)
            for stage in after:
                outgoing = [out for message in outgoing for out in stage.message(state, direction, message)]
        elif route_stages and kind == framing.UPDATE and direction in state.contexts:
            outgoing = self._routes(state, direction, raw, route_stages)  # the common case: one UPDATE read
        else:
            outgoing = [raw]
        self._watch(state, direction, outgoing)
        return outgoing

    async def process_async(self, state, direction, kind, raw):
        """`process` for a pipeline with a stage that awaits an answer (`awaits`, `message_async`)."""
        if kind == framing.OPEN:
            self._opened(state, direction, raw)
        outgoing = [raw]
        before, route_stages, after = self.plans.get(direction) or NO_PLAN
        outgoing = await self._message_stages(state, direction, outgoing, before)
        if route_stages and direction in state.contexts:
            outgoing = self._route_stages(state, direction, outgoing, route_stages)
        outgoing = await self._message_stages(state, direction, outgoing, after)
        self._watch(state, direction, outgoing)
        return outgoing

    @staticmethod
    async def _message_stages(state, direction, outgoing, stages):
        for stage in stages:
            answered = []
            for message in outgoing:
                if stage.awaits:
                    answered.extend(await stage.message_async(state, direction, message))
                else:
                    answered.extend(stage.message(state, direction, message))
            outgoing = answered
        return outgoing

    def _route_stages(self, state, direction, outgoing, route_stages):
        if len(outgoing) == 1:  # the common case: one message read, one to pass the route stages
            raw = outgoing[0]
            return self._routes(state, direction, raw, route_stages) if raw[18] == framing.UPDATE else outgoing
        return [
            out
            for raw in outgoing
            for out in (self._routes(state, direction, raw, route_stages) if raw[18] == framing.UPDATE else (raw,))
        ]

    def _watch(self, state, direction, outgoing):
        for out in outgoing:
            for watcher in self.watchers:
                watcher.crossed(state, direction, out)

    def originated(self, state, direction, raw):
        """A message the runner writes on its own (a withdrawal after a VRP change, a Cease): the
        watchers see it like any other, so the archive holds everything that crossed."""
        for watcher in self.watchers:
            watcher.crossed(state, direction, raw)

    def watch_update(self, state, direction, update):
        """WATCH mode: the route stages of `direction` see an UPDATE the speaker received and decoded
        (the same RouteChange as in the proxy); the outcome, routes held back included, is recorded
        in the RIB and nothing is encoded or written. The RouteChange, for the caller to read."""
        rib = state.memory.setdefault(("rib", direction), Rib())
        change = RouteChange(update.raw, update.ctx, update, rib, self.metrics)
        for stage in self.plans.get(direction, NO_PLAN)[1]:
            stage.update(state, direction, change)
        change.record()
        return change

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
        rib = state.memory.get(("rib", direction))
        if rib is None:
            rib = state.memory[("rib", direction)] = Rib(state.contexts[direction])
            state.memory[("attribute-blocks", direction)] = AttributeBlocks()  # for this direction's context
        ctx = state.contexts[direction]
        scanned = scan_update(raw, ctx) if self.fast else None
        if scanned is not None:  # a common shape, clean: nothing else to check
            change = ScannedChange(raw, ctx, scanned, rib, self.metrics)
            for stage in route_stages:
                stage.update(state, direction, change)
            return change.encode()
        change = RouteChange.from_update(raw, ctx, rib, self.metrics, state.memory[("attribute-blocks", direction)])
        action = change.update.error_action
        if action >= ErrorAction.AFI_SAFI_DISABLE:
            # RFC 7606: nothing else can be trusted in this session; end it with the NOTIFICATION
            error = change.update.error
            raise SessionReset(error.code, error.subcode, error.data, change.update.reason)
        if action != ErrorAction.NONE:  # treat-as-withdraw, attribute discard: counted, a line per interval
            name, reason = session_name(state), change.update.reason
            DECISIONS.record(LOG, name, "RFC 7606", action.label, reason, level=WARNING, unit="UPDATE(s)")
        for stage in route_stages:
            stage.update(state, direction, change)
        return change.encode()
