"""Route keys: one bytes object per prefix that tells every family, length and path id apart and
turns back into the same Prefix."""

from peerwarden_runner.codec import Prefix
from peerwarden_runner.route_keys import key_prefix, route_key, run_keys

PREFIXES = [
    Prefix.parse("203.0.113.0/24"),
    Prefix.parse("0.0.0.0/0"),
    Prefix.parse("10.255.0.0/9"),
    Prefix.parse("192.0.2.1/32"),
    Prefix.parse("2001:db8::/32"),
    Prefix.parse("::/0"),
    Prefix.parse("2001:db8::1/128"),
    Prefix.parse("203.0.113.0/24", path_id=7),
    Prefix.parse("203.0.113.0/24", path_id=0),
    Prefix.parse("2001:db8::/48", path_id=4294967295),
    Prefix.parse("224.0.0.0/4", safi=2),
    Prefix.parse("ff00::/8", safi=2),
]


def test_keys_turn_back_into_the_same_prefix():
    for prefix in PREFIXES:
        assert key_prefix(route_key(prefix)) == prefix


def test_keys_tell_families_lengths_and_path_ids_apart():
    same_octets = [
        Prefix(1, 1, 24, b"\x20\x01\x0d"),
        Prefix(2, 1, 24, b"\x20\x01\x0d"),
        Prefix(1, 2, 24, b"\x20\x01\x0d"),
        Prefix(1, 1, 23, b"\x20\x01\x0c"),
        Prefix(1, 1, 24, b"\x20\x01\x0d", 1),
    ]
    keys = [route_key(prefix) for prefix in PREFIXES + same_octets]
    assert len(set(keys)) == len(keys)


def test_run_keys_equal_route_key_one_by_one():
    for run in (
        [p for p in PREFIXES if p.afi == 1 and p.safi == 1 and p.path_id is None],
        [p for p in PREFIXES if p.afi == 2 and p.path_id is None and p.safi == 1],
        [Prefix.parse("10.0.0.0/8", path_id=1), Prefix.parse("10.0.0.0/8", path_id=2)],
        [],
    ):
        assert run_keys(run) == [route_key(prefix) for prefix in run]
