"""ASPA JSON files: rpki-client's "aspas" (output-json.c print_vap: customer_asid, expires, providers),
Routinator's spelling, errors that name the file, the entry and the field, and the watcher."""

import asyncio
import json
import os

import pytest

from peerwarden_runner.rpki.aspa_file import load_aspa_file, parse_aspa_document
from peerwarden_runner.rpki.aspa_file_watcher import AspaFileWatcher
from peerwarden_runner.rpki.vrp_file import VrpFileError

NOW = 1_700_000_000


def document(*aspas):
    return {"metadata": {"buildtime": "2023-11-14T22:13:20Z"}, "roas": [], "aspas": list(aspas)}


def test_reads_rpki_client_and_routinator_entries():
    contents = parse_aspa_document(
        document(
            {"customer_asid": 64496, "expires": NOW + 3600, "providers": [64500, 64501]},
            {"customer": "AS64497", "providers": ["AS64501"], "ta": "ripe"},  # Routinator's --enable-aspa
            {"customer_asid": 64510, "expires": NOW + 60, "providers": [0]},  # AS0: no providers
        ),
        now=NOW,
    )
    assert contents.aspas == {64496: {64500, 64501}, 64497: {64501}, 64510: {0}}
    assert (contents.entries, contents.expired) == (3, 0)


def test_skips_expired_entries_and_merges_two_entries_of_one_customer():
    contents = parse_aspa_document(
        document(
            {"customer_asid": 64496, "expires": NOW - 1, "providers": [64500]},
            {"customer_asid": 64497, "providers": [64501]},
            {"customer_asid": 64497, "providers": [64502]},
        ),
        now=NOW,
    )
    assert contents.aspas == {64497: {64501, 64502}}
    assert (contents.entries, contents.expired) == (3, 1)


@pytest.mark.parametrize(
    "aspas, where, what",
    [
        ([{"providers": [1]}], "aspas[0].customer_asid", "missing"),
        ([{"customer_asid": 1}], "aspas[0].providers", "missing"),
        ([{"customer_asid": 1, "providers": 2}], "aspas[0].providers", "must be a list"),
        (
            [{"customer_asid": 1, "providers": [2]}, {"customer_asid": "ASx", "providers": []}],
            "aspas[1].customer_asid",
            "not an AS number",
        ),
        ([{"customer_asid": 1, "providers": [2, 4294967296]}], "aspas[0].providers[1]", "outside 0..4294967295"),
        ([{"customer_asid": 1, "providers": [True]}], "aspas[0].providers[0]", "must be a number"),
        ([{"customer_asid": 1, "providers": [1, 2]}], "aspas[0].providers", "lists itself as its own provider"),
        ([{"customer_asid": 1, "providers": [2], "expires": "soon"}], "aspas[0].expires", "seconds since the epoch"),
        (["AS1"], "aspas[0]", "must be an object"),
    ],
)
def test_a_bad_entry_refuses_the_file_naming_the_entry_and_field(aspas, where, what):
    with pytest.raises(VrpFileError) as raised:
        parse_aspa_document({"aspas": aspas}, "aspas.json", now=NOW)
    assert str(raised.value).startswith("aspas.json: %s: " % where) and what in str(raised.value)


@pytest.mark.parametrize(
    "document, what",
    [
        ([], "the top level must be a JSON object"),
        ({"roas": []}, 'no "aspas" list (keys found: roas; rpki-client leaves it out when run with -A)'),
        ({"aspas": {}}, '"aspas" must be a list'),
    ],
)
def test_a_file_without_an_aspas_list_is_refused(document, what):
    with pytest.raises(VrpFileError, match="^aspas.json: ") as raised:
        parse_aspa_document(document, "aspas.json")
    assert what in str(raised.value)


def test_unreadable_and_broken_files_say_so(tmp_path):
    with pytest.raises(VrpFileError, match="cannot read"):
        load_aspa_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"aspas": [\n{"customer_asid": 1,}]}')
    with pytest.raises(VrpFileError, match="not valid JSON: .* at line 2 column"):
        load_aspa_file(broken)


def write(path, *aspas):
    """Write as rpki-client does: a new file renamed over the old one."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document(*aspas)))
    os.replace(temporary, path)


def test_the_watcher_reports_the_customers_that_changed_and_keeps_the_set_on_a_bad_file(tmp_path):
    path = tmp_path / "aspas.json"
    write(path, {"customer_asid": 64496, "providers": [64500]}, {"customer_asid": 64497, "providers": [64501]})
    seen = []

    async def run():
        watcher = AspaFileWatcher(path, on_change=seen.append, poll_interval=0.01)
        assert await watcher.load() == {64496, 64497}
        assert await watcher.poll_once() is None  # unchanged
        write(
            path, {"customer_asid": 64496, "providers": [64500, 64502]}, {"customer_asid": 64497, "providers": [64501]}
        )
        assert await watcher.poll_once() == {64496}
        assert watcher.aspas == {64496: {64500, 64502}, 64497: {64501}}
        path.write_text('{"aspas": [{"customer_asid": 64496}]}')
        assert await watcher.poll_once() is None
        assert watcher.errors == 1 and "aspas[0].providers: missing" in str(watcher.last_error)
        assert watcher.aspas == {64496: {64500, 64502}, 64497: {64501}}  # stale beats none
        write(path, {"customer_asid": 64497, "providers": [64501]})
        assert await watcher.poll_once() == {64496}

    asyncio.run(run())
    assert seen == [{64496, 64497}, {64496}, {64496}]
