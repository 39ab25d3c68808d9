"""One RTR transport session with one cache (RFC 8210 §8, 8210bis-27 §8): queries, responses,
Serial Notify, and in version 2 the ASPA PDU.

The session owns the connection and the protocol state; the client (rtr_client) owns caches,
timers and expiry. A session runs until the connection ends, and always ends by raising: the
exception says whether the next session must start over with a Reset Query, whether this
cache's data must be flushed now, or whether the cache wants an older protocol version.

Updates are collected aside and applied to the VrpTable (and the AspaTable) in one step at End of
Data (§5.8; 8210bis-27 §11.3 recommends it), so the tables never show half a sync; a withdrawal of
an unknown record or a duplicate announcement (§5.6, §12) is an error that drops the session
instead of being guessed around. An ASPA announcement replaces what the cache said of that
customer before (8210bis-27 §5.12); within a reset a customer comes once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import NoReturn

from peerwarden_runner.rpki.aspa_table import AspaTable
from peerwarden_runner.rpki.gc_pause import GcPause, collect_young
from peerwarden_runner.rpki.rtr_pdu import (
    AspaPdu,
    CacheReset,
    CacheResponse,
    EndOfData,
    ErrorCode,
    ErrorReport,
    Octets,
    PduType,
    PrefixPdu,
    RouterKey,
    RtrPduError,
    SerialNotify,
    decode_pdu,
    decode_prefix,
    encode_error_report,
    encode_reset_query,
    encode_serial_query,
    error_name,
    split_pdus,
)
from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_diff import VrpDiff
from peerwarden_runner.rpki.vrp_table import VrpStore

LOG = logging.getLogger("peerwarden_runner.rpki.rtr")

READ_CHUNK = 256 * 1024
QUEUED_CHUNKS = 16  # back-pressure: the reader stops reading when the session lags this far

PREFIX_TYPES = (PduType.IPV4_PREFIX, PduType.IPV6_PREFIX)

AWAITING_RESPONSE = "awaiting response"
RECEIVING = "receiving"
IDLE = "idle"
WAITING_FOR_DATA = "waiting for data"

EndOfDataHandler = Callable[[VrpDiff, EndOfData], Awaitable[None] | None]
ReaderItem = list[bytearray] | BaseException


class RtrSessionEnded(Exception):
    """The session is over. `reset`: start the next one with a Reset Query (the cache's session
    id or serial can no longer be trusted); `flush`: drop this cache's data now (§5.1)."""

    def __init__(self, message: str, *, reset: bool = False, flush: bool = False):
        super().__init__(message)
        self.reset = reset or flush
        self.flush = flush


class RtrVersionFallback(RtrSessionEnded):
    """The cache does not speak our version (§7): reconnect with `version`."""

    def __init__(self, message: str, version: int):
        super().__init__(message, reset=True)
        self.version = version


class RtrSession:
    """Speaks to one cache over (reader, writer) until the connection ends.

    `version`: the version to query with; lowered on this connection if the cache answers
    with a lower version (§7). `session_id`/`serial`: from an earlier session with this cache whose
    data is in `table` and `aspas` (then a Serial Query starts), or None (Reset Query). `refresh_interval`
    and `retry_interval` are read from callables because End of Data may change them.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        table: VrpStore,
        aspas: AspaTable | None = None,
        version: int,
        session_id: int | None,
        serial: int | None,
        on_end_of_data: EndOfDataHandler,
        refresh_interval: Callable[[], float],
        retry_interval: Callable[[], float],
        response_timeout: float = 60.0,
        label: str = "cache",
    ):
        self._reader = reader
        self._writer = writer
        self.table = table
        self.aspas = aspas if aspas is not None else AspaTable()
        self.version = version
        self.session_id = session_id
        self.serial = serial
        self._on_end_of_data = on_end_of_data
        self._refresh_interval = refresh_interval
        self._retry_interval = retry_interval
        self._response_timeout = response_timeout
        self.label = label
        self.negotiated = False  # a response arrived: the version is settled (§7)
        self.state = AWAITING_RESPONSE
        self._resetting = session_id is None or serial is None
        self._fresh: set[Vrp] = set()
        self._announced: set[Vrp] = set()
        self._withdrawn: set[Vrp] = set()
        self._aspa_changes: dict[int, frozenset[int] | None] = {}  # of this response; None: withdrawn
        self._notified_serial: int | None = None
        self._deadline = 0.0
        self._chunks: asyncio.Queue[ReaderItem] = asyncio.Queue(QUEUED_CHUNKS)
        self._gc_pause = GcPause()  # during a full (reset) response: see gc_pause

    # -- the loop -------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run the session; returns never, raises RtrSessionEnded or a connection error."""
        loop = asyncio.get_running_loop()
        reader_task = asyncio.create_task(self._read_chunks(), name="rtr-reader %s" % self.label)
        try:
            await self._send_query()
            while True:
                try:
                    item = await asyncio.wait_for(self._chunks.get(), max(0.0, self._deadline - loop.time()))
                except TimeoutError:
                    await self._deadline_passed()
                    continue
                if isinstance(item, BaseException):
                    if isinstance(item, RtrPduError):
                        await self._fail(item.code, item.pdu, str(item))
                    raise item
                await self._handle_batch(item)
        finally:
            self._gc_pause.resume()
            reader_task.cancel()
            self._writer.close()

    async def _read_chunks(self) -> None:
        """Frame the byte stream into PDUs, in batches (one queue item per read, not per PDU:
        a full sync is 800,000 PDUs)."""
        buffer = bytearray()
        try:
            while True:
                data = await self._reader.read(READ_CHUNK)
                if not data:
                    reason = "the cache closed the connection" + (" in the middle of a PDU" if buffer else "")
                    await self._chunks.put(ConnectionResetError(reason))
                    return
                buffer += data
                pdus = split_pdus(buffer)
                if pdus:
                    await self._chunks.put(pdus)
        except (RtrPduError, OSError) as error:
            await self._chunks.put(error)

    async def _deadline_passed(self) -> None:
        if self.state == IDLE or self.state == WAITING_FOR_DATA:  # Refresh Interval (§6): poll
            await self._send_query()
        else:
            raise RtrSessionEnded("%s: no answer for %.0f s (%s)" % (self.label, self._response_timeout, self.state))

    # -- sending --------------------------------------------------------------------------------------

    async def _send_query(self) -> None:
        if self._resetting:
            LOG.debug("%s: Reset Query (version %d)", self.label, self.version)
            await self._send(encode_reset_query(self.version))
        else:
            LOG.debug("%s: Serial Query session %d serial %d", self.label, self.session_id, self.serial)
            assert self.session_id is not None and self.serial is not None  # not resetting: a session was synced
            await self._send(encode_serial_query(self.version, self.session_id, self.serial))
        self.state = AWAITING_RESPONSE
        self._notified_serial = None
        self._expect_answer()

    async def _send(self, data: bytes) -> None:
        self._writer.write(data)
        await asyncio.wait_for(self._writer.drain(), self._response_timeout)

    def _expect_answer(self) -> None:
        self._deadline = asyncio.get_running_loop().time() + self._response_timeout

    async def _fail(self, code: ErrorCode, pdu: Octets, message: str, *, flush: bool = False) -> NoReturn:
        """Send an Error Report (never in answer to an Error Report, §5.11) and end the session."""
        if not (len(pdu) >= 2 and pdu[1] == PduType.ERROR_REPORT):
            try:
                await self._send(encode_error_report(self.version, code, pdu, message))
            except (TimeoutError, OSError):
                pass  # the session ends anyway
        raise RtrSessionEnded(
            "%s: sent Error Report (%s): %s" % (self.label, error_name(code), message), reset=True, flush=flush
        )

    # -- receiving ------------------------------------------------------------------------------------

    async def _handle_batch(self, pdus: list[bytearray]) -> None:
        """Handle PDUs in order; Prefix PDUs inside a response (nearly all of a sync) take a
        synchronous fast path, everything else the general one."""
        for raw in pdus:
            if raw[1] in PREFIX_TYPES and self.state == RECEIVING and raw[0] == self.version:
                try:
                    self._record(raw)
                except RtrPduError as error:
                    await self._fail(error.code, raw, str(error))
            else:
                await self._handle(raw)
        if self.state == RECEIVING:
            self._expect_answer()  # the cache is making progress
        if self._gc_pause.active:
            collect_young()

    async def _handle(self, raw: Octets) -> None:
        if not self.negotiated and raw[1] == PduType.SERIAL_NOTIFY:
            return  # §7: ignored, whatever its version, until the cache has answered a query
        try:
            pdu = decode_pdu(raw)
        except RtrPduError as error:
            await self._fail(error.code, raw, str(error))
        if isinstance(pdu, ErrorReport):  # any version: it may be the cache refusing ours (§7)
            await self._error_report(pdu)
            return
        if pdu.version != self.version:
            if self.negotiated or pdu.version > self.version:
                await self._fail(
                    ErrorCode.UNEXPECTED_PROTOCOL_VERSION,
                    raw,
                    "version %d PDU in a version %d session" % (pdu.version, self.version),
                )
            LOG.info("%s: the cache answers in version %d, downgrading (RFC 8210 §7)", self.label, pdu.version)
            self.version = pdu.version
        if isinstance(pdu, PrefixPdu):
            if self.state != RECEIVING:
                await self._fail(ErrorCode.CORRUPT_DATA, raw, "Prefix PDU outside a response")
            try:
                self._record(raw)
            except RtrPduError as error:
                await self._fail(error.code, raw, str(error))
        elif isinstance(pdu, SerialNotify):
            await self._serial_notify(pdu, raw)
        elif isinstance(pdu, CacheResponse):
            await self._cache_response(pdu, raw)
        elif isinstance(pdu, EndOfData):
            await self._end_of_data(pdu, raw)
        elif isinstance(pdu, CacheReset):
            await self._cache_reset(raw)
        elif isinstance(pdu, AspaPdu):
            if self.state != RECEIVING:
                await self._fail(ErrorCode.CORRUPT_DATA, raw, "ASPA PDU outside a response")
            try:
                self._record_aspa(pdu, raw)
            except RtrPduError as error:
                await self._fail(error.code, raw, str(error))
        elif isinstance(pdu, RouterKey):
            if self.state != RECEIVING:  # BGPsec router keys are not used here, only checked
                await self._fail(ErrorCode.CORRUPT_DATA, raw, "Router Key outside a response")
        else:  # a query: the other end thinks it is a router
            await self._fail(ErrorCode.INVALID_REQUEST, raw, "%s sent to a router" % type(pdu).__name__)

    async def _error_report(self, report: ErrorReport) -> None:
        if report.code == ErrorCode.NO_DATA_AVAILABLE and self.state == AWAITING_RESPONSE:
            # §12: not fatal; the cache has not finished loading. Ask again after Retry Interval.
            LOG.warning("%s: cache has no data yet; asking again in %.0f s", self.label, self._retry_interval())
            self.state = WAITING_FOR_DATA
            self._deadline = asyncio.get_running_loop().time() + self._retry_interval()
            return
        if report.code == ErrorCode.UNSUPPORTED_PROTOCOL_VERSION and not self.negotiated and self.version > 0:
            # 8210bis-27 §7: ask again in the version of the cache's Error Report (its highest)
            lower = report.version if report.version < self.version else self.version - 1
            raise RtrVersionFallback(
                "%s: cache refuses version %d (%s)" % (self.label, self.version, report.describe()), lower
            )
        raise RtrSessionEnded("%s: cache sent Error Report: %s" % (self.label, report.describe()), reset=True)

    async def _serial_notify(self, notify: SerialNotify, raw: Octets) -> None:
        if notify.session_id != self.session_id:
            await self._session_mismatch(notify.session_id, raw)
        if self.state == IDLE:
            if notify.serial != self.serial:
                await self._send_query()
        else:
            self._notified_serial = notify.serial  # query again after this response

    async def _cache_response(self, response: CacheResponse, raw: Octets) -> None:
        if self.state != AWAITING_RESPONSE:
            await self._fail(ErrorCode.CORRUPT_DATA, raw, "Cache Response while %s" % self.state)
        if self._resetting:
            self.session_id = response.session_id
        elif response.session_id != self.session_id:
            await self._session_mismatch(response.session_id, raw)
        self.negotiated = True
        self.state = RECEIVING
        if self._resetting:
            self._gc_pause.pause()
        self._fresh.clear()
        self._announced.clear()
        self._withdrawn.clear()
        self._aspa_changes.clear()
        self._expect_answer()

    def _record(self, raw: Octets) -> None:
        """Note one Prefix PDU of the current response; RtrPduError when it cannot be right."""
        announce, vrp = decode_prefix(raw)
        if self._resetting:
            if not announce:
                raise RtrPduError(ErrorCode.WITHDRAWAL_OF_UNKNOWN_RECORD, "withdrawal of %s in a reset" % (vrp,), raw)
            fresh = self._fresh
            size = len(fresh)
            fresh.add(vrp)
            if len(fresh) == size:
                raise RtrPduError(ErrorCode.DUPLICATE_ANNOUNCEMENT_RECEIVED, "%s announced twice" % (vrp,), raw)
        elif announce:  # §5.6: announcing a record already held is an error
            if vrp in self._withdrawn:
                self._withdrawn.discard(vrp)
            elif vrp in self._announced or vrp in self.table:
                raise RtrPduError(ErrorCode.DUPLICATE_ANNOUNCEMENT_RECEIVED, "%s is already known" % (vrp,), raw)
            else:
                self._announced.add(vrp)
        elif vrp in self._announced:
            self._announced.discard(vrp)
        elif vrp in self.table and vrp not in self._withdrawn:
            self._withdrawn.add(vrp)
        else:
            raise RtrPduError(ErrorCode.WITHDRAWAL_OF_UNKNOWN_RECORD, "withdrawal of unknown %s" % (vrp,), raw)

    def _record_aspa(self, pdu: AspaPdu, raw: Octets) -> None:
        """Note one ASPA PDU of the current response; RtrPduError when it cannot be right."""
        customer, changes = pdu.customer, self._aspa_changes
        if self._resetting:  # the whole set: each customer once, nothing to withdraw
            if not pdu.announce:
                raise RtrPduError(
                    ErrorCode.WITHDRAWAL_OF_UNKNOWN_RECORD, "ASPA withdrawal of AS%d in a reset" % customer, raw
                )
            if customer in changes:
                raise RtrPduError(ErrorCode.DUPLICATE_ANNOUNCEMENT_RECEIVED, "ASPA of AS%d twice" % customer, raw)
        elif not pdu.announce and changes.get(customer, self.aspas.get(customer)) is None:
            raise RtrPduError(ErrorCode.WITHDRAWAL_OF_UNKNOWN_RECORD, "ASPA withdrawal of unknown AS%d" % customer, raw)
        changes[customer] = frozenset(pdu.providers) if pdu.announce else None

    async def _end_of_data(self, end: EndOfData, raw: Octets) -> None:
        if self.state != RECEIVING:
            await self._fail(ErrorCode.CORRUPT_DATA, raw, "End of Data outside a response")
        if end.session_id != self.session_id:
            await self._session_mismatch(end.session_id, raw)
        if self._resetting:  # a full set: built aside without stalling the event loop
            diff = await self.table.replace_all_async(self._fresh, adopt=True)
            self._fresh = set()
            aspas = self.aspas.replace_all({customer: p for customer, p in self._aspa_changes.items() if p is not None})
        else:
            diff = self.table.apply(added=self._announced, removed=self._withdrawn)
            self._announced.clear()
            self._withdrawn.clear()
            aspas = self.aspas.apply(self._aspa_changes)
        self._aspa_changes = {}
        self._gc_pause.resume()
        self.serial = end.serial
        self._resetting = False
        self.state = IDLE
        LOG.info(
            "%s: synced, session %d serial %d, %d VRPs (+%d -%d), %d ASPAs (%d customer(s) changed)",
            self.label,
            self.session_id,
            self.serial,
            len(self.table),
            len(diff.added),
            len(diff.removed),
            len(self.aspas),
            len(aspas),
        )
        result = self._on_end_of_data(diff, end)
        if result is not None:
            await result
        self._deadline = asyncio.get_running_loop().time() + self._refresh_interval()
        if self._notified_serial is not None and self._notified_serial != self.serial:
            await self._send_query()

    async def _cache_reset(self, raw: Octets) -> None:
        if self.state != AWAITING_RESPONSE or self._resetting:
            await self._fail(ErrorCode.CORRUPT_DATA, raw, "Cache Reset while %s" % self.state)
        LOG.info("%s: cache cannot answer serial %s incrementally; resetting (RFC 8210 §5.9)", self.label, self.serial)
        self._resetting = True
        await self._send_query()

    async def _session_mismatch(self, session_id: int, raw: Octets) -> NoReturn:
        """§5.1: a changed session id means the data may be inconsistent: report, drop, flush."""
        await self._fail(
            ErrorCode.CORRUPT_DATA, raw, "session id %d, expected %s" % (session_id, self.session_id), flush=True
        )
