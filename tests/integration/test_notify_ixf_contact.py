"""The notify path writes to whom the dataset names: a network only the exchange's IX-F export knows
(AS42 in IXP Manager's own 1.0 export, fixtures/ixp/SOURCES.md) gets its message at the export's
contact_email, a network PeeringDB knows (AS2128, its real answer) at its PeeringDB NOC contact
first; from scan events through resolve_peers to the written message (an outbox, SQLite store)."""

import email
import email.policy
from datetime import datetime

from unit.notify_helpers import params
from unit.test_ixf_fields import EXPORT_FILE, dataset_of, with_peeringdb
from unit.test_ixp_data import load

from ansible_collections.peerwarden.bgp.plugins.filter.ixp import FilterModule
from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.run import run_notify

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
RESOLVE = FilterModule().filters()["resolve_peers"]


def knock(address):
    return {
        "router": "edge1",
        "address": address,
        "kind": "unconfigured_neighbor",
        "count": 4,
        "first_seen": "2026-11-20T08:00:00Z",
        "last_seen": "2026-11-21T06:00:00Z",
    }


def notify(tmp_path, peers):
    settings = params(tmp_path / "store.sqlite", peers, outbox=str(tmp_path / "outbox"))
    return run_notify(settings, check_mode=False, now=NOW)


def test_the_exchange_only_network_is_written_to_at_its_export_contact(tmp_path):
    dataset = dataset_of(load(EXPORT_FILE), with_peeringdb())[0]
    # AS42 as a dual-stack socket logs it; AS2128 at its PeeringDB address
    peers = RESOLVE([knock("::ffff:10.1.0.36"), knock("185.6.36.126")], dataset)
    result = notify(tmp_path, peers)
    assert sorted((e["asn"], tuple(e["to"])) for e in result["sent"]) == [
        (42, ("peering@example.com",)),
        (2128, ("operations@inex.ie",)),
    ]
    by_to = {}
    for path in result["messages"]:
        with open(path, "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        by_to[str(message["To"])] = message.get_body(("plain",)).get_content()
    assert "10.1.0.36" in by_to["peering@example.com"] and "::ffff:" not in by_to["peering@example.com"]


def test_the_exchange_contact_first_when_the_user_orders_so(tmp_path):
    dataset = dataset_of(load(EXPORT_FILE), with_peeringdb())[0]
    peers = RESOLVE([knock("185.6.36.126")], dataset, roles=["IX-F", "Policy", "NOC"])
    assert [(e["asn"], e["to"]) for e in notify(tmp_path, peers)["sent"]] == [(2128, ["peering@siep.net"])]
