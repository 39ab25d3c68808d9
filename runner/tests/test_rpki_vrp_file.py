"""VRP JSON files: the formats of rpki-client/StayRTR/Routinator, precise errors, and the watcher."""

import asyncio
import json
import os

import pytest

from peerwarden_runner.rpki import RouteValidity, VrpTable, make_vrp
from peerwarden_runner.rpki.vrp_file import VrpFileError, load_vrp_file, parse_asn, parse_vrp_json
from peerwarden_runner.rpki.vrp_file_watcher import VrpFileWatcher

NOW = 1_700_000_000


def document(*roas, **extra):
    return json.dumps(dict({"metadata": {"buildtime": "2023-11-14T22:13:20Z"}, "roas": list(roas)}, **extra))


def test_parses_string_and_integer_asns_and_defaults_max_length():
    contents = parse_vrp_json(
        document(
            {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": "AS65001", "ta": "ripe"},
            {"prefix": "2001:db8::/32", "maxLength": 48, "asn": 65002},
            {"prefix": "198.51.100.0/22", "asn": "as65003"},
            {"prefix": "203.0.113.0/24", "maxLength": 24, "asn": "65004", "expires": NOW + 3600},
        ),
        now=NOW,
    )
    assert contents.vrps == {
        make_vrp("192.0.2.0/24", 24, 65001),
        make_vrp("2001:db8::/32", 48, 65002),
        make_vrp("198.51.100.0/22", 22, 65003),
        make_vrp("203.0.113.0/24", 24, 65004),
    }
    assert (contents.entries, contents.expired, contents.duplicates) == (4, 0, 0)


def test_skips_expired_entries_and_counts_duplicates():
    contents = parse_vrp_json(
        document(
            {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": 1, "expires": NOW - 1},
            {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": 2},
            {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": 2, "ta": "other"},
        ),
        now=NOW,
    )
    assert contents.vrps == {make_vrp("192.0.2.0/24", 24, 2)}
    assert (contents.entries, contents.expired, contents.duplicates) == (3, 1, 1)


@pytest.mark.parametrize(
    "roas, message",
    [
        (
            [{"prefix": "192.0.2.0/24", "maxLength": 24, "asn": 1}, {"maxLength": 24, "asn": 1}],
            r"f\.json: roas\[1\]\.prefix: missing",
        ),
        ([{"prefix": "192.0.2.300/24", "maxLength": 24, "asn": 1}], r"roas\[0\]\.prefix: .*not an IPv4 address"),
        ([{"prefix": "192.0.2.1/24", "maxLength": 24, "asn": 1}], r"roas\[0\]\.prefix: .*host bits set"),
        ([{"prefix": "192.0.2.0/24", "maxLength": 23, "asn": 1}], r"roas\[0\]\.maxLength: 23 is outside 24\.\.32"),
        ([{"prefix": "192.0.2.0/24", "maxLength": "24", "asn": 1}], r"roas\[0\]\.maxLength: must be an integer"),
        ([{"prefix": "2001:db8::/32", "maxLength": 129, "asn": 1}], r"roas\[0\]\.maxLength: 129 is outside 32\.\.128"),
        ([{"prefix": "192.0.2.0/24", "maxLength": 24}], r"roas\[0\]\.asn: missing"),
        ([{"prefix": "192.0.2.0/24", "maxLength": 24, "asn": "ASX"}], r"roas\[0\]\.asn: 'ASX' is not an AS number"),
        ([{"prefix": "192.0.2.0/24", "maxLength": 24, "asn": 4294967296}], r"roas\[0\]\.asn: 4294967296 is outside"),
        ([{"prefix": "192.0.2.0/24", "maxLength": 24, "asn": True}], r"roas\[0\]\.asn: must be a number"),
        ([{"prefix": "192.0.2.0/24", "maxLength": 24, "asn": 1, "expires": "soon"}], r"roas\[0\]\.expires: must be"),
        (["192.0.2.0/24"], r"roas\[0\]: must be an object, not str"),
    ],
)
def test_entry_errors_name_file_index_and_field(roas, message):
    with pytest.raises(VrpFileError, match=message) as caught:
        parse_vrp_json(document(*roas), source="f.json", now=NOW)
    assert caught.value.source == "f.json"


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"roas": [', r"f\.json: not valid JSON: .* at line 1 column 11"),
        ("[]", r"f\.json: the top level must be a JSON object"),
        ('{"vrps": []}', r'f\.json: no "roas" list \(keys found: vrps\)'),
        ('{"roas": {}}', r'f\.json: "roas" must be a list, not dict'),
    ],
)
def test_document_errors(text, message):
    with pytest.raises(VrpFileError, match=message):
        parse_vrp_json(text, source="f.json")


def test_missing_file(tmp_path):
    with pytest.raises(VrpFileError, match="cannot read"):
        load_vrp_file(tmp_path / "absent.json")


def test_parse_asn_forms():
    assert [parse_asn(value) for value in (65001, "AS65001", "as65001", "65001")] == [65001] * 4
    with pytest.raises(ValueError):
        parse_asn(-1)


def write(path, *roas):
    staging = str(path) + ".new"
    with open(staging, "w", encoding="utf-8") as staged:
        staged.write(document(*roas))
    os.replace(staging, path)


def test_watcher_follows_edits_and_keeps_data_when_the_file_breaks(tmp_path):
    path = tmp_path / "vrps.json"
    write(path, {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": "AS65001"})
    table = VrpTable()
    changes, errors = [], []

    async def scenario():
        watcher = VrpFileWatcher(
            path,
            table,
            lambda added, removed: changes.append((added, removed)),
            poll_interval=0.02,
            on_error=errors.append,
        )
        await watcher.load()
        assert table.validate("192.0.2.0/24", 65001) == RouteValidity.VALID
        watcher.start()
        write(
            path,
            {"prefix": "192.0.2.0/24", "maxLength": 24, "asn": "AS65002"},
            {"prefix": "2001:db8::/32", "maxLength": 48, "asn": 65003},
        )
        while len(changes) < 2:
            await asyncio.sleep(0.01)
        path.write_text('{"roas": [{"prefix": "bogus"}]}')  # in place, broken
        while not errors:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # unchanged broken file: not re-read, not re-reported
        await watcher.stop()
        return watcher

    watcher = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert changes[0] == ({make_vrp("192.0.2.0/24", 24, 65001)}, frozenset())
    assert changes[1] == (
        {make_vrp("192.0.2.0/24", 24, 65002), make_vrp("2001:db8::/32", 48, 65003)},
        {make_vrp("192.0.2.0/24", 24, 65001)},
    )
    assert len(errors) == 1 and "roas[0].prefix" in str(errors[0])
    assert table.validate("2001:db8:1::/48", 65003) == RouteValidity.VALID  # the last good data stays
    assert (watcher.loads, watcher.errors) == (2, 1)
