"""The replayed routes as UPDATEs for our session (replay/updates.py): next hop ours or kept, our AS
first on eBGP (once), LOCAL_PREF and reflection attributes left out on eBGP, a 2-octet recording's
AS4_PATH merged, path ids dropped, and everything not sent counted."""

import ipaddress
import os

from peerwarden_runner import mrt
from peerwarden_runner.codec import NegotiatedContext, decode_update, encode_update, make_attribute
from peerwarden_runner.codec import constants as c
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.source import records
from peerwarden_runner.replay.updates import ReplayUpdates

FIXTURES = os.path.join(os.path.dirname(__file__), "mrt_fixtures")
OURS = NegotiatedContext(families=frozenset({c.IPV4_UNICAST, c.IPV6_UNICAST}))
LOCAL, ASN = "127.0.0.23", 65020


def replayed(path, sender, ctx=OURS, asn=ASN, ebgp=True, next_hop="self"):
    """(the UPDATEs decoded for our session, the counts)."""
    updates = ReplayUpdates(sender, ctx, LOCAL, asn, ebgp, next_hop)
    decoded = [decode_update(raw, ctx) for when, batch in updates.batches(records(path, Findings())) for raw in batch]
    return decoded, updates.counts


def write_mrt(path, messages, peer_as=64500, four_octet=True):
    with open(path, "wb") as handle:
        for when, message in messages:
            handle.write(mrt.message_record(when, message, peer_as, 65000, "192.0.2.1", "192.0.2.2", four_octet))


def test_a_rib_dump_becomes_updates_with_our_next_hop_and_as_first():
    decoded, counts = replayed(os.path.join(FIXTURES, "quagga_rib"), "192.168.0.10")
    routes = [route for update in decoded for route in update.routes()]
    assert len(routes) == counts["routes announced"] == 6  # 3 IPv4, 3 IPv6; 3 more IPv6 from fd02::10
    assert counts["records of other senders"] == 3
    assert len(decoded) == 2  # the IPv4 routes share attributes: one UPDATE, and one for the IPv6 ones
    for update in decoded:
        assert update.as_path.asns() == [ASN, 4200000000, 4200000000, 4200000000, 64512, 64512, 64512]
        assert update.local_pref is None and update.med == 10 and update.error_action.label == "none"
    assert {str(r.next_hop) for r in routes if r.prefix.afi == 1} == {LOCAL}
    assert {r.next_hop.ipv4_mapped for r in routes if r.prefix.afi == 2} == {ipaddress.IPv4Address(LOCAL)}


def test_next_hop_keep_and_ibgp_keep_what_was_recorded():
    decoded, counts = replayed(os.path.join(FIXTURES, "quagga_rib"), "192.168.0.10", ebgp=False, next_hop="keep")
    v4 = [update for update in decoded if update.nlri]
    assert v4[0].local_pref == 100 and v4[0].as_path.asns()[0] == 4200000000  # iBGP: path as recorded
    assert str(v4[0].next_hop) == "192.168.0.10"


def test_our_as_is_not_put_first_twice():
    decoded, counts = replayed(os.path.join(FIXTURES, "quagga_rib"), "192.168.0.10", asn=4200000000)
    assert decoded[0].as_path.asns()[:4] == [4200000000, 4200000000, 4200000000, 64512]


def test_a_two_octet_recording_is_sent_with_the_merged_four_octet_path(tmp_path):
    two = NegotiatedContext(four_octet_as=False)
    path_attribute = make_attribute(c.AS_PATH, [["sequence", [64500, c.AS_TRANS, 64501]]], two)
    as4 = make_attribute(c.AS4_PATH, [["sequence", [4200000001, 64501]]], two)
    aggregator = make_attribute(c.AGGREGATOR, (c.AS_TRANS, "192.0.2.9"), two)
    as4_aggregator = make_attribute(c.AS4_AGGREGATOR, (4200000009, "192.0.2.9"), two)
    attributes = [make_attribute(c.ORIGIN, 0, two), path_attribute, make_attribute(c.NEXT_HOP, "192.0.2.1", two)]
    attributes += [make_attribute(c.LOCAL_PREF, 200, two), aggregator, as4, as4_aggregator]
    message = encode_update(attributes=attributes, nlri=["198.51.100.0/24"], ctx=two)
    write_mrt(tmp_path / "two.mrt", [(1.0, message)], four_octet=False)
    decoded, counts = replayed(tmp_path / "two.mrt", "192.0.2.1")
    (update,) = decoded
    assert update.as_path.asns() == [ASN, 64500, 4200000001, 64501]
    assert update.aggregator == (4200000009, ipaddress.IPv4Address("192.0.2.9"))
    assert update.attribute(c.AS4_PATH) is None and update.attribute(c.AS4_AGGREGATOR) is None
    assert update.local_pref is None and update.error_action.label == "none"


def test_add_path_ids_are_dropped_and_what_is_not_sent_is_counted(tmp_path):
    only_v4 = NegotiatedContext(families=frozenset({c.IPV4_UNICAST}))
    path = os.path.join(FIXTURES, "bview.ipv4_unicast_add_path.gz")
    decoded, counts = replayed(path, "10.0.15.1", ctx=only_v4)
    routes = [route for update in decoded for route in update.routes()]
    assert routes and all(route.prefix.path_id is None for route in routes)
    assert counts["routes announced"] == len(routes)
    assert counts["records of other senders"] > 0
    decoded, counts = replayed(os.path.join(FIXTURES, "quagga_rib"), "192.168.0.10", ctx=only_v4)
    assert counts["routes of a family the session did not negotiate (2/1)"] > 0
    assert counts["routes announced"] == counts["routes of a family the session did not negotiate (2/1)"] == 3


def test_recorded_updates_keep_their_withdrawals_and_skip_keepalives_and_end_of_rib(tmp_path):
    from peerwarden_runner.codec import KEEPALIVE_MESSAGE, encode_end_of_rib, encode_withdraw

    announce = encode_update(
        attributes=[
            make_attribute(c.ORIGIN, 0),
            make_attribute(c.AS_PATH, [["sequence", [64500]]]),
            make_attribute(c.NEXT_HOP, "192.0.2.1"),
        ],
        nlri=["198.51.100.0/24", "203.0.113.0/24"],
    )
    messages = [KEEPALIVE_MESSAGE, announce, encode_withdraw(["203.0.113.0/24"])[0], encode_end_of_rib(1, 1)]
    write_mrt(tmp_path / "u.mrt", [(float(n), m) for n, m in enumerate(messages)])
    decoded, counts = replayed(tmp_path / "u.mrt", "192.0.2.1")
    assert [[str(p) for p in u.announced()] for u in decoded] == [["198.51.100.0/24", "203.0.113.0/24"], []]
    assert [str(p) for p in decoded[1].withdrawals()] == ["203.0.113.0/24"]
    assert counts["keepalive messages"] == 1 and counts["End-of-RIB markers (ours is sent at the end)"] == 1
