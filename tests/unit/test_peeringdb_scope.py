"""peeringdb.ix_ids / ix_names select the exchanges, from the API and from a dump_dir alike, and an
unknown id or name fails naming it (with a dump: did-you-mean and the exchanges the dump knows)."""

import copy
import json

import pytest
from unit.test_ixp_data import EXPORT, PEERINGDB

from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.peeringdb import (
    FetchError,
    PeeringDB,
    fetch_objects,
)
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.run import run_ixp_data


def two_exchanges():
    """The unit PeeringDB objects plus a second exchange with its own LAN, member and contact."""
    objects = copy.deepcopy(PEERINGDB)
    objects["ix"].append({"id": 2, "name": "Sample-IX", "status": "ok"})
    objects["ixlan"].append({"id": 21, "ix_id": 2, "name": "Sample-IX LAN", "status": "ok"})
    objects["ixpfx"].append({"id": 3, "ixlan_id": 21, "protocol": "IPv4", "prefix": "198.51.100.0/24"})
    objects["netixlan"].append(
        {"id": 3, "net_id": 102, "ix_id": 2, "ixlan_id": 21, "asn": 64510, "ipaddr4": "198.51.100.10", "status": "ok"}
    )
    objects["net"].append({"id": 102, "asn": 64510, "name": "Sample Net", "status": "ok"})
    objects["poc"].append(
        {"id": 9, "net_id": 102, "role": "Policy", "name": "", "email": "peering@sample.example", "status": "ok"}
    )
    return objects


@pytest.fixture
def dump_dir(tmp_path):
    for object_type, records in two_exchanges().items():
        (tmp_path / (object_type + ".json")).write_text(json.dumps({"data": records}))
    return str(tmp_path)


def run(dump_dir, tmp_path, **scope):
    params = {"ixf": [], "peeringdb": dict(scope, dump_dir=dump_dir), "cache_dir": str(tmp_path / "cache")}
    return run_ixp_data(params, fetch=None)


@pytest.mark.parametrize("scope", [{"ix_names": ["Sample-IX"]}, {"ix_ids": [2]}])
def test_the_dump_is_cut_to_the_exchanges_named(dump_dir, tmp_path, scope):
    dataset = run(dump_dir, tmp_path, **scope)["dataset"]
    assert list(dataset["exchanges"]) == ["ix:2"]
    assert list(dataset["addresses"]) == ["198.51.100.10"]
    assert list(dataset["networks"]) == ["64510"]
    assert dataset["networks"]["64510"]["contacts"][0]["email"] == "peering@sample.example"


def test_without_a_scope_the_whole_dump_is_read(dump_dir, tmp_path):
    dataset = run(dump_dir, tmp_path)["dataset"]
    assert sorted(dataset["exchanges"]) == ["ix:1", "ix:2"]


@pytest.mark.parametrize(
    "scope,message",
    [
        (
            {"ix_names": ["sample-ix"]},
            r"has no exchange named 'sample-ix' \(did you mean 'Sample-IX'\?\): check ix_names .*"
            r"; it knows 2: 'Example-IX', 'Sample-IX'$",
        ),
        ({"ix_names": ["Sampel-IX", "Example-IX"]}, r"no exchange named 'Sampel-IX' \(did you mean 'Sample-IX'\?\)"),
        ({"ix_names": ["Nowhere"]}, r"no exchange named 'Nowhere': check ix_names .*it knows 2: 'Example-IX'"),
        ({"ix_ids": [2, 99]}, r"no exchange with id 99: check ix_ids; it knows 2: 1 \(Example-IX\), 2 \(Sample-IX\)$"),
    ],
)
def test_an_unknown_exchange_in_a_dump_fails_naming_the_known_ones(dump_dir, tmp_path, scope, message):
    with pytest.raises(FetchError, match=r"^PeeringDB dump .*" + message) as raised:
        run(dump_dir, tmp_path, **scope)
    assert raised.value.permanent


def test_an_unknown_id_fails_on_the_api_path_too():
    """PeeringDB answers an unknown id with an empty list: that is not an exchange with no members."""
    asked = []

    def fetch(url, headers):
        asked.append(url)
        return json.dumps({"data": []}).encode()

    with pytest.raises(FetchError, match=r"^PeeringDB has no exchange with id 4242: check ix_ids$"):
        fetch_objects(PeeringDB(fetch, "http://127.0.0.1:9/api"), ix_ids=[4242])
    assert len(asked) == 1  # stopped before asking for LANs and members


def test_an_ixf_export_still_joins_a_cut_dump(dump_dir, tmp_path):
    params = {"ixf": [], "peeringdb": {"dump_dir": dump_dir, "ix_ids": [1]}, "cache_dir": str(tmp_path / "c")}
    export = tmp_path / "x.json"
    export.write_text(json.dumps(EXPORT))
    params["ixf"] = [str(export)]
    dataset = run_ixp_data(params, fetch=None)["dataset"]
    assert list(dataset["exchanges"]) == ["ix:1"] and "198.51.100.10" not in dataset["addresses"]
