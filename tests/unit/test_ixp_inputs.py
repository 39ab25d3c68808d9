"""Inputs as they come in the field: an IX-F export with a UTF-8 BOM (from a file and over HTTP) reads as
without one; a PeeringDB email field that lists several addresses gives one contact each, every one
checked on its own (a bad one is rejected alone, not the whole field)."""

import copy
import json

from unit.test_ixp_data import EXPORT, PEERINGDB

from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.run import run_ixp_data

BOM = b"\xef\xbb\xbf"


def dataset_from_export(tmp_path, body, over_http):
    if over_http:
        params = {"ixf": ["http://127.0.0.1:9/ixf.json"], "cache_dir": str(tmp_path / "cache")}
        return run_ixp_data(params, fetch=lambda url, headers: body)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "ixf.json"
    path.write_bytes(body)
    return run_ixp_data({"ixf": [str(path)], "cache_dir": str(tmp_path / "cache")}, fetch=None)


def test_an_export_with_a_bom_reads_as_without_one(tmp_path):
    plain = json.dumps(EXPORT).encode("utf-8")
    for over_http in (False, True):
        without = dataset_from_export(tmp_path / ("a-http" if over_http else "a-file"), plain, over_http)["dataset"]
        with_bom = dataset_from_export(tmp_path / ("b-http" if over_http else "b-file"), BOM + plain, over_http)[
            "dataset"
        ]
        assert with_bom["addresses"] == without["addresses"] and with_bom["addresses"]


def test_a_field_with_several_addresses_gives_one_contact_each(tmp_path):
    objects = copy.deepcopy(PEERINGDB)
    network_id = objects["net"][0]["id"]
    objects["poc"] = [
        {"id": 7, "net_id": network_id, "role": "NOC", "name": "NOC", "status": "ok",
         "email": "noc@one.example, noc@two.example; not-an-address"},
    ]  # fmt: skip
    dump = tmp_path / "dump"
    dump.mkdir()
    for object_type, records in objects.items():
        (dump / (object_type + ".json")).write_text(json.dumps({"data": records}))
    result = run_ixp_data({"ixf": [], "peeringdb": {"dump_dir": str(dump)}, "cache_dir": str(tmp_path / "c")}, None)
    network = result["dataset"]["networks"][str(objects["net"][0]["asn"])]
    assert [contact["email"] for contact in network["contacts"]] == ["noc@one.example", "noc@two.example"]
    assert [(entry["email"], entry["reason"]) for entry in result["rejected_contacts"]] == [
        ("'not-an-address'", "not a valid email address")
    ]
