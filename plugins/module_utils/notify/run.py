# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""notify_peers from options to report: decide per network, render, record the intent, send,
record the outcome.

Nothing lost, nothing doubled: the intent (with its Message-ID and the rendered bytes) is
committed before the server is contacted and marked sent only after the server accepted it. An
intent left over by an earlier run (a crash, a server that was down) is sent again, first, with
the same Message-ID and bytes. The only way a network gets two copies is a process death between
the server's acceptance and the commit, and that copy carries the same Message-ID.

Our problems are not the networks' problems: a relay that refuses our sender (MAIL FROM), our
login, or every recipient of every message of a run stops the run with the intents kept and marks
no network. A recipient refused while other messages of the same run were accepted is that
network's problem: its message is recorded as refused. Runs take the store's lock (store.py), so
two runs at once (AWX slices) cannot both write to a network.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
from datetime import datetime, timedelta

from ansible_collections.peerwarden.bgp.plugins.module_utils.notify import mail as notify_mail
from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC, iso_utc
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.mail import (
    Fatal, Permanent, Refused, Temporary, UnsafeData, check_address)
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.render import STRANGER_KINDS, Renderer
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.store import open_store

DEFAULT_KINDS = ("unconfigured_neighbor", "md5_unexpected", "firewall_drop_bgp", "peer_as_mismatch")


def run_notify(params, check_mode=False, now=None, delivery=None):
    """Returns {"sent", "skipped_peers", "failed_messages", "resolved", "report", "messages", "previews",
    "fatal"} ("skipped" and "failed" would be read by Ansible as the task's own status);
    raises ValueError for options that cannot work. A delivery problem no retry can fix (login,
    TLS) ends the run early with "fatal" set; what was not sent stays due for the next run."""
    now = now or datetime.now(UTC)
    our = _our(params.get("our") or {})
    _check_our_addresses(params)
    peers = _check_peers(params.get("peers"))
    renderer = Renderer(params.get("subject"), params.get("template"), params.get("html_template"))
    store = open_store(params["store"], read_only=check_mode)
    run = _Run(params, our, renderer, store, now, check_mode, delivery)
    try:
        if not check_mode:
            store.lock(params.get("lock_timeout", 300))
        run.retry_pending({group.get("asn"): group.get("name") for group in peers})
        for group in peers:
            run.consider(group)
        run.judge_refusals()
        run.resolve_quiet()
    except Fatal as error:
        run.fatal = str(error)
    finally:
        run.close()
    return run.result()


STORE_ACTIONS = ("suppress", "unsuppress", "forget")


def run_store_action(params, check_mode=False, now=None):
    """suppress, unsuppress or forget the ASNs in params["asns"]: {"changed", "asns": {asn: what}}."""
    action, asns = params["action"], [_asn(item) for item in params.get("asns") or ()]
    if action not in STORE_ACTIONS:
        raise ValueError("action %s: choose notify or one of %s" % (action, ", ".join(STORE_ACTIONS)))
    if not asns:
        raise ValueError("action %s needs asns: the networks to %s" % (action, action))
    store = open_store(params["store"], read_only=check_mode)
    done = {}
    try:
        if not check_mode:
            store.lock(params.get("lock_timeout", 300))
        for asn in asns:
            if action == "suppress":
                changed = store.suppress(asn, iso_utc(now or datetime.now(UTC)))
            elif action == "unsuppress":
                changed = store.unsuppress(asn)
            else:
                changed = store.forget(asn)
            done[asn] = ("%s%s" % ("would be " if check_mode else "", {"suppress": "suppressed",
                         "unsuppress": "unsuppressed", "forget": "forgotten"}[action]) if changed
                         else "nothing to do")
    finally:
        store.close()
    return {"changed": any(what != "nothing to do" for what in done.values()), "asns": done}


def _asn(item):
    text = str(item).strip().upper()
    text = text[2:] if text.startswith("AS") else text
    if not text.isdigit():
        raise ValueError("asns: %r is not an AS number (64500 or AS64500)" % (item,))
    return int(text)


def _check_our_addresses(params):
    """Our own addresses are checked like the recipients' before anything is sent, naming the option."""
    our = params.get("our") or {}
    check_address(our["contact"], "our.contact")
    for option in ("from", "reply_to", "redirect_to"):
        if params.get(option):
            check_address(params[option], option)
    for option in ("cc", "bcc"):
        for address in params.get(option) or ():
            check_address(address, option)


def _check_peers(peers):
    """resolve_peers' groups, or a clear refusal (log_events' raw events would otherwise do nothing, silently)."""
    peers = list(peers or ())
    for number, group in enumerate(peers):
        if not isinstance(group, dict) or "asn" not in group or "addresses" not in group:
            found = ", ".join(sorted(group)) if isinstance(group, dict) else type(group).__name__
            hint = (" (these look like log_events events: pass them through peerwarden.bgp.resolve_peers first)"
                    if isinstance(group, dict) and "kind" in group and "address" in group else "")
            raise ValueError("peers[%d] is not a resolve_peers group (it needs asn and addresses; it has %s)%s"
                             % (number, found, hint))
    return peers


def _our(our):
    missing = [key for key in ("asn", "name", "contact") if not our.get(key)]
    if missing:
        raise ValueError("our needs %s: who we are, for the message and its From" % ", ".join(missing))
    notify_mail.safe(our["name"], "our.name")
    return {"asn": our["asn"], "name": our["name"], "contact": our["contact"],
            "policy_url": our.get("policy_url") or "", "how_to_reach": our.get("how_to_reach") or "",
            "routers": _our_routers(our.get("routers") or {})}


def _our_routers(routers):
    """our.routers: {router: [address/prefix length, ...]} as {router: [ip_interface, ...]}."""
    if not isinstance(routers, dict):
        raise ValueError("our.routers: expected {router name: [address/prefix length, ...]}, got %r" % (routers,))
    result = {}
    for router, interfaces in routers.items():
        if isinstance(interfaces, str):
            interfaces = [interfaces]
        try:
            result[str(router)] = [ipaddress.ip_interface(str(text).strip()) for text in interfaces or ()]
        except ValueError as error:
            raise ValueError("our.routers.%s: %s (give address/prefix length, e.g. 192.0.2.1/24)" % (router, error))
        if any(i.network.prefixlen == i.max_prefixlen for i in result[str(router)]):
            raise ValueError("our.routers.%s: give each address with its LAN's prefix length (192.0.2.1/24), "
                             "which says which knocks it is ours for" % router)
    return result


def _knock(record, asn, routers):
    """An address record with what the message says of it: our addresses (from the log lines, else
    our.routers' address on the same LAN), the AS we expect when the peer claimed another, and
    whether we have no session with it at all (a stranger)."""
    ours = list(record.get("local_addresses") or ())
    if not ours:
        peer = ipaddress.ip_address(record["address"])
        ours = sorted({str(i.ip) for router in record.get("routers") or () for i in routers.get(router, ())
                       if i.version == peer.version and peer in i.network})
    peer_as = record.get("peer_as")
    return dict(record, our_addresses=ours, peer_as=peer_as,
                expected_as=asn if peer_as is not None and peer_as != asn else None,
                stranger=bool(set(record.get("kinds") or ()) & set(STRANGER_KINDS)))


class _Run:
    def __init__(self, params, our, renderer, store, now, check_mode, delivery):
        self.params, self.our, self.renderer, self.store = params, our, renderer, store
        self.now, self.check_mode = now, check_mode
        self.delivery = delivery
        self.budget = params.get("max_per_run", 20)
        self.sender = params.get("from") or our["contact"]
        self.sent, self.skipped, self.failed, self.resolved, self.messages = [], [], [], [], []
        self.previews = []
        self.refused = []  # (message_id, entry, error): judged at the end of the run
        self.accepted = 0
        self.fatal = None
        self.handled = set()
        self.seen = set()
        self.suppress = {str(item).upper().replace("AS", "") for item in params.get("suppress") or ()}
        self.suppressed_in_store = store.suppressed()
        self.kinds = set(params.get("kinds") or DEFAULT_KINDS)

    # -- the three steps -------------------------------------------------------------------------

    def retry_pending(self, names):
        """Unsent messages of earlier runs, first; `names`: {asn: network name} of this run's groups."""
        for intent in self.store.pending():
            self.handled.add(intent["asn"])
            name = names.get(intent["asn"])
            if self.budget <= 0:
                self.skipped.append(self._entry(intent["asn"], name, "over max_per_run: the retry of %s waits for "
                                                "the next run" % intent["message_id"]))
                continue
            self.budget -= 1
            self._deliver(intent["asn"], intent["message_id"], intent["raw"].encode("utf-8"), intent["recipients"],
                          intent["exchanges"], intent["addresses"], bool(intent["escalation"]), retry=intent["created"],
                          name=name)

    def consider(self, group):
        asn = group.get("asn")
        name = group.get("name")
        if asn is None:
            for record in group.get("addresses") or ():
                self.skipped.append({"asn": None, "name": "unknown", "address": record["address"],
                                     "reason": "no source knows this address: nobody to write to"})
            return
        exchanges = sorted(group.get("exchanges") or ["(no exchange)"])
        self.seen.update((asn, exchange) for exchange in exchanges)
        if not self.check_mode:
            for exchange in exchanges:
                self.store.saw(asn, exchange, group.get("last_seen"))
        if asn in self.handled:
            self.skipped.append(self._entry(asn, name, "an earlier message to this network was retried in this run"))
            return
        addresses = [a for a in group.get("addresses") or () if set(a.get("kinds") or ()) & self.kinds]
        suppressed = str(asn) in self.suppress or any(a["address"].upper() in self.suppress for a in addresses)
        if suppressed:
            self.skipped.append(self._entry(asn, name, "suppressed (option suppress)"))
            return
        if asn in self.suppressed_in_store:
            self.skipped.append(self._entry(asn, name, "suppressed in the store since %s (action: unsuppress "
                                            "to write again)" % self.suppressed_in_store[asn]))
            return
        if not addresses:
            self.skipped.append(self._entry(asn, name, "only %s: not something to write to a stranger about"
                                            % ", ".join(sorted(group.get("kinds") or ()))))
            return
        past = _summary(row for row in self.store.networks(asn) if row["exchange"] in exchanges)
        decision = self._decide(group, past, addresses)
        if isinstance(decision, str):
            self.skipped.append(self._entry(asn, name, decision))
            return
        recipients, escalation = decision
        self._compose_and_send(group, exchanges, addresses, past, recipients, escalation)

    def resolve_quiet(self):
        """Networks written to that have not knocked for resolved_after days are resolved."""
        limit = self.now - timedelta(days=self.params.get("resolved_after", 14))
        for row in self.store.networks():
            if row["state"] == "resolved" or (row["asn"], row["exchange"]) in self.seen or not row["last_notified"]:
                continue
            last = row["last_seen"] or row["last_notified"]
            if _parse(last) < limit:
                if not self.check_mode:
                    self.store.set_state(row["asn"], row["exchange"], "resolved")
                self.resolved.append({"asn": row["asn"], "exchange": row["exchange"], "last_seen": last,
                                      "notifications": row["notifications"]})

    # -- decisions -------------------------------------------------------------------------------

    def _decide(self, group, past, addresses):
        """(recipients, escalation) to send, or the reason not to."""
        notifications, escalated, last = past["notifications"], past["escalated"], past["last_notified"]
        new = sorted({a["address"] for a in addresses} - past["addresses"])
        if last is not None:
            due = _parse(last) + timedelta(days=self.params.get("renotify_after", 30))
            if self.now < due and not (new and self.params.get("renotify_on_new_addresses", True)):
                return "inside the renotify window: written %s, next possible %s" % (last, iso_utc(due))
        refused = [m for m in self.store.messages(group["asn"]) if m["status"] == "failed"]
        if refused and not self.params.get("retry_refused"):
            when = refused[-1]["created"]
            due = _parse(when) + timedelta(days=self.params.get("renotify_after", 30))
            if self.now < due and (last is None or when > last):
                return ("the last message (%s) was refused for good: %s; not tried again before %s "
                        "(retry_refused: true to try now)" % (when, refused[-1]["error"], iso_utc(due)))
        contacts = group.get("contacts") or []
        escalate_to = self.params.get("escalate_to")
        limit = self.params.get("max_notifications", 3)
        escalation = False
        if notifications >= limit:
            if not escalate_to or escalated:
                return "stopped: %d notifications sent (max_notifications %d)%s" % (
                    notifications, limit, ", escalation done" if escalated else "")
            contacts = (group.get("contacts_by_role") or {}).get(escalate_to) or []
            if not contacts:
                return "max_notifications reached and the network has no %s contact to escalate to" % escalate_to
            escalation = True
        if not contacts:
            known = sorted((group.get("contacts_by_role") or {}).keys())
            return ("no contact: no email in the roles resolve_peers was asked for (by default Policy, NOC, Technical, "
                    "then the exchange's IX-F contact_email; peerwarden_contact_roles); roles with emails: %s"
                    % (", ".join(known) or "none"))
        if self.budget <= 0:
            return "over max_per_run (%d): left for the next run" % self.params.get("max_per_run", 20)
        return contacts, escalation

    # -- sending ---------------------------------------------------------------------------------

    def _compose_and_send(self, group, exchanges, addresses, past, recipients, escalation):
        asn = group["asn"]
        previous = {"notifications": past["notifications"], "last_notified": past["last_notified"]}
        knocks = [_knock(a, asn, self.our["routers"]) for a in addresses]
        peer = dict(group, addresses=knocks, exchanges=exchanges)
        kinds = sorted({kind for a in addresses for kind in a["kinds"]} & self.kinds)
        variables = {"our": self.our, "peer": peer, "kinds": kinds, "previous": previous,
                     "strangers": [a["address"] for a in knocks if a["stranger"]],
                     "reminder": previous["notifications"] > 0, "escalation": escalation,
                     "escalation_role": self.params.get("escalate_to") or "",
                     "renotify_after_days": self.params.get("renotify_after", 30)}
        message_id = notify_mail.new_message_id(self.sender)
        try:
            notify_mail.safe(group.get("name"), "the network name")
            subject, text, html = self.renderer.render(variables)
            message = notify_mail.build(
                self.params.get("from_name") or self.our["name"], self.sender, recipients, subject, text, html,
                message_id, self.now, reply_to=self.params.get("reply_to"), cc=self.params.get("cc") or (),
                redirect_to=self.params.get("redirect_to"))
        except UnsafeData as error:
            self.failed.append(self._entry(asn, group.get("name"), str(error), permanent=True))
            return
        raw = message.as_bytes()
        rcpt = notify_mail.envelope(recipients, self.params.get("cc") or (), self.params.get("bcc") or (),
                                    self.params.get("redirect_to"))
        address_list = [a["address"] for a in addresses]
        self.budget -= 1
        if self.check_mode:
            self.previews.append({"message_id": message_id, "text": notify_mail.preview(message)})
            self.sent.append(dict(self._entry(asn, group.get("name"), "would send (check mode)"), to=recipients,
                                  message_id=message_id, subject=subject, escalation=escalation))
            return
        self.store.record_intent(message_id, asn, iso_utc(self.now), rcpt, exchanges, address_list, escalation,
                                 raw.decode("utf-8"))
        self._deliver(asn, message_id, raw, rcpt, exchanges, address_list, escalation, retry=None,
                      name=group.get("name"), subject=subject, shown_to=recipients)

    def _deliver(self, asn, message_id, raw, rcpt, exchanges, addresses, escalation, retry, name=None, subject=None,
                 shown_to=None):
        label = "%s-AS%s-%s" % (self.now.strftime("%Y%m%dT%H%M%SZ"), asn, hashlib.sha1(message_id.encode()).hexdigest()[:8])
        entry = dict(self._entry(asn, name, "retry of the message of %s" % retry if retry else "sent"),
                     message_id=message_id, to=shown_to or rcpt, escalation=escalation, subject=subject)
        if self.check_mode:
            self.sent.append(dict(entry, reason="would retry (check mode)" if retry else "would send (check mode)"))
            return
        try:
            where = self._delivery().send(raw, self.sender, rcpt, label)
        except Temporary as error:
            self.store.attempted(message_id, str(error))
            self.failed.append(dict(entry, reason="%s; it will be retried with the same Message-ID" % error,
                                    permanent=False))
            return
        except Refused as error:
            self.refused.append((message_id, entry, str(error)))  # whose problem: judge_refusals decides
            return
        except Permanent as error:
            self.store.failed(message_id, str(error))
            self.failed.append(dict(entry, reason=str(error), permanent=True))
            return
        self.accepted += 1
        self.store.sent(message_id, iso_utc(self.now), asn, exchanges, addresses, escalation)
        if where.endswith(".eml"):
            self.messages.append(where)
        self.sent.append(dict(entry, retry=bool(retry), delivered=where))

    def judge_refusals(self):
        """Refused recipients are the networks' problem when the relay took other messages in this
        run; when it took none, the relay (ours) is refusing: stop, keep every intent, mark nothing."""
        if not self.refused:
            return
        if not self.accepted:
            for dummy, entry, error in self.refused:
                self.failed.append(dict(entry, reason="%s; kept for the next run: the relay refused every "
                                        "recipient of this run" % error, permanent=False))
            raise Fatal("the SMTP relay refused every recipient of all %d message(s) of this run, and accepted "
                        "none: that is a relay problem (it does not relay for our sender or login, or blocks "
                        "the recipients' domains), not the networks'; fix the relay or smtp settings and run "
                        "again; no network was marked refused" % len(self.refused))
        for message_id, entry, error in self.refused:
            self.store.failed(message_id, error)
            self.failed.append(dict(entry, reason=error, permanent=True))

    def _delivery(self):
        if self.delivery is None:
            if self.params.get("outbox"):
                self.delivery = notify_mail.Outbox(self.params["outbox"])
            elif self.params.get("smtp"):
                smtp = self.params["smtp"]
                self.delivery = notify_mail.Smtp(smtp["host"], smtp.get("port"), smtp.get("security", "starttls"),
                                                 smtp.get("validate_certs", True), smtp.get("ca_file"),
                                                 smtp.get("username"), smtp.get("password"), smtp.get("timeout", 30))
            else:
                raise ValueError("give smtp (a mail server) or outbox (a directory for .eml files)")
        return self.delivery

    def close(self):
        if self.delivery is not None:
            self.delivery.close()
        self.store.close()

    # -- result ----------------------------------------------------------------------------------

    @staticmethod
    def _entry(asn, name, reason, **more):
        entry = {"asn": asn, "name": name, "reason": reason}
        entry.update(more)
        return entry

    def result(self):
        lines = ["%-7s AS%-10s %-28s %s" % ("WOULD SEND" if self.check_mode else "SENT", e["asn"], (e.get("name") or "")[:28],
                                            ", ".join(e["to"]) + (" (retry)" if e.get("retry") else ""))
                 for e in self.sent]
        lines += ["%-7s AS%-10s %-28s %s" % ("FAILED", e["asn"], (e.get("name") or "")[:28], e["reason"])
                  for e in self.failed]
        for e in self.skipped:
            who = "AS%s" % e["asn"] if e["asn"] is not None else e.get("address")
            lines.append("%-7s %-12s %-28s %s" % ("SKIPPED", who, (e.get("name") or "")[:28], e["reason"]))
        lines += ["%-7s AS%-10s %-28s quiet since %s" % ("RESOLVED", e["asn"], e["exchange"][:28], e["last_seen"])
                  for e in self.resolved]
        if self.fatal:
            lines.append("STOPPED %s" % self.fatal)
        report = {"sent": len(self.sent), "skipped": len(self.skipped), "failed": len(self.failed),
                  "resolved": len(self.resolved), "lines": lines}
        return {"sent": self.sent, "skipped_peers": self.skipped, "failed_messages": self.failed,
                "resolved": self.resolved,
                "report": report, "messages": self.messages, "previews": self.previews, "fatal": self.fatal}


def _summary(rows):
    """What the store knows of a network across the exchanges of this message."""
    past = {"notifications": 0, "escalated": 0, "last_notified": None, "addresses": set()}
    for row in rows:
        past["notifications"] = max(past["notifications"], row["notifications"])
        past["escalated"] = max(past["escalated"], row["escalated"])
        if row["last_notified"] and (past["last_notified"] is None or row["last_notified"] > past["last_notified"]):
            past["last_notified"] = row["last_notified"]
        past["addresses"].update(row["addresses"])
    return past


def _parse(stamp):
    return datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
