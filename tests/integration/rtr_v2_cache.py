"""A small RTR version 2 cache (draft-ietf-sidrops-8210bis-27) on 127.0.0.1 that serves ASPAs, for the
runner's lab tests: no cache installed here speaks the draft's current ASPA PDU (StayRTR 0.5.1 sends
the one of draft -10), so this one is scripted, with the runner's own PDU codec.

It answers a Reset Query with every ASPA, a Serial Query with what changed since that serial
(announcements before withdrawals, by customer: §11.2.3), and `publish(aspas)` makes a new serial and
sends Serial Notify to the connected router. One router at a time; stopped by `close()`.

    with ScriptedRtrCache({65001: [65000]}) as cache:     # cache.port: where it listens
        cache.publish({65001: [65000], 64500: [64499]})
"""

import socket
import threading

from peerwarden_runner.rpki import rtr_pdu

SESSION_ID = 2026


class ScriptedRtrCache:
    def __init__(self, aspas):
        self.history = {0: self._normalised(aspas)}  # serial -> the ASPAs at that serial
        self.serial = 0
        self.lock = threading.Lock()
        self.connection = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, name="rtr-v2-cache", daemon=True)

    @staticmethod
    def _normalised(aspas):
        return {customer: tuple(sorted(providers)) for customer, providers in aspas.items()}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.listener.close()
        with self.lock:
            if self.connection is not None:
                self.connection.close()
        self.thread.join(5)

    def publish(self, aspas):
        with self.lock:
            self.serial += 1
            self.history[self.serial] = self._normalised(aspas)
            if self.connection is not None:
                self.connection.sendall(rtr_pdu.encode_serial_notify(2, SESSION_ID, self.serial))

    def _serve(self):
        while True:
            try:
                connection, dummy_address = self.listener.accept()
            except OSError:
                return  # closed
            with self.lock:
                self.connection = connection
            try:
                self._answer(connection)
            except OSError:
                pass
            finally:
                with self.lock:
                    self.connection = None
                connection.close()

    def _answer(self, connection):
        buffer = bytearray()
        while True:
            data = connection.recv(4096)
            if not data:
                return
            buffer += data
            for raw in rtr_pdu.split_pdus(buffer):
                query = rtr_pdu.decode_pdu(raw)
                with self.lock:
                    connection.sendall(self._response(query))

    def _response(self, query):
        now = self.history[self.serial]
        if isinstance(query, rtr_pdu.SerialQuery) and query.serial in self.history:
            before = self.history[query.serial]
            announced = [
                (customer, providers) for customer, providers in now.items() if before.get(customer) != providers
            ]
            withdrawn = [customer for customer in before if customer not in now]
        elif isinstance(query, rtr_pdu.ResetQuery):
            announced, withdrawn = list(now.items()), []
        elif isinstance(query, rtr_pdu.SerialQuery):  # a serial this cache never had: the router must reset
            return rtr_pdu.encode_cache_reset(2)
        else:  # the router's Error Report: nothing to answer, it closes the connection
            return b""
        return (
            rtr_pdu.encode_cache_response(2, SESSION_ID)
            + b"".join(rtr_pdu.encode_aspa(2, customer, providers) for customer, providers in sorted(announced))
            + b"".join(rtr_pdu.encode_aspa(2, customer, announce=False) for customer in sorted(withdrawn))
            + rtr_pdu.encode_end_of_data(2, SESSION_ID, self.serial)
        )
