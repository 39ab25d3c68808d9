"""ixp_data against a local server that answers like PeeringDB and serves an IX-F export: paging,
the API key, 429/5xx/timeouts/bad JSON, the cache that keeps the last good answer, offline use."""

import pytest
from ansible.module_utils.urls import open_url

from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp import peeringdb
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.peeringdb import FetchError
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.run import run_ixp_data
from lab.peeringdb_server import EXAMPLE_IX_EXPORT_PATH, Fault
from playbook_runner import run_playbook

pytestmark = pytest.mark.lab


def fetch(url, headers):
    return open_url(url, headers=headers, timeout=0.5, http_agent="peerwarden-test").read()


@pytest.fixture
def waits(monkeypatch):
    """Retry pauses are recorded instead of slept."""
    recorded = []
    monkeypatch.setattr(peeringdb, "_pause", recorded.append)
    return recorded


def params(server, tmp_path, **more):
    settings = {
        "ixf": [server.url + EXAMPLE_IX_EXPORT_PATH],
        "peeringdb": {"url": server.url + "/api", "ix_names": ["Example-IX", "Sample-IX"], "page_size": 3},
        "cache_dir": str(tmp_path / "cache"),
        "cache_ttl": 0,
        "prefer": "ixf",
    }
    settings.update(more)
    return settings


def test_fetch_paged_merge_and_reject(peeringdb_server, tmp_path, waits):
    server = peeringdb_server(max_limit=2)  # pages smaller than asked for: only an empty page ends a list
    result = run_ixp_data(params(server, tmp_path), fetch)
    dataset = result["dataset"]
    assert dataset["addresses"]["192.0.2.11"]["asn"] == 64496
    assert dataset["addresses"]["2001:db8:ffff::12"]["asn"] == 64497  # IPv6-only port
    only_in_ixf = dataset["addresses"]["192.0.2.17"]
    assert (
        only_in_ixf["asn"] == 65537 and only_in_ixf["exchange"] == "ix:1" and only_in_ixf["sources"] == {"ixf": 65537}
    )
    disagreed = dataset["addresses"]["192.0.2.15"]
    assert disagreed["asn"] == 64499 and disagreed["sources"] == {"peeringdb": 65536, "ixf": 64499}
    assert any(w.startswith("192.0.2.15: IX-F says AS64499, PeeringDB says AS65536") for w in result["warnings"])
    assert sorted(dataset["exchanges"]) == ["ix:1", "ix:2"]
    assert dataset["exchanges"]["ix:1"]["sources"] == ["peeringdb", "ixf"]
    rejected = {(r["asn"], r["role"]): r["reason"] for r in result["rejected_contacts"]}
    assert rejected[(64499, "Policy")].startswith("control characters")
    assert rejected[(65536, "Policy")] == "not a valid email address"
    assert "victim@example.org" not in str(dataset)
    lists = [r.path for r in server.requests if r.path.startswith("/api/netixlan")]
    assert len(lists) > 2 and all("limit=3" in p for p in lists)  # it paged
    assert [s["from"] for s in result["sources"]] == ["network", "network"]
    assert waits == []


def test_api_key_is_sent_and_shows_more_contacts(peeringdb_server, tmp_path, waits):
    server = peeringdb_server(api_key="k3y")
    anonymous = run_ixp_data(params(server, tmp_path, peeringdb={"url": server.url + "/api", "ix_ids": [1]}), fetch)
    with pytest.raises(FetchError, match="401"):
        run_ixp_data(
            params(server, tmp_path, ixf=[], peeringdb={"url": server.url + "/api", "ix_ids": [1], "api_key": "wrong"}),
            fetch,
        )
    keyed = run_ixp_data(
        params(server, tmp_path, peeringdb={"url": server.url + "/api", "ix_ids": [1], "api_key": "k3y"}), fetch
    )

    def roles(result):
        return sorted(c["role"] for c in result["dataset"]["networks"]["64496"]["contacts"])

    assert roles(anonymous) == ["NOC", "Policy"]
    assert roles(keyed) == ["NOC", "Policy", "Technical"]
    assert server.requests[-1].headers.get("Authorization") == "Api-Key k3y"


def test_429_with_retry_after_and_5xx_are_retried(peeringdb_server, tmp_path, waits):
    server = peeringdb_server()
    server.fail_next("/api/ix", Fault(status=429, headers={"Retry-After": "2"}), Fault(status=500), Fault(status=503))
    result = run_ixp_data(params(server, tmp_path), fetch)
    assert waits[:3] == [2, 2, 4]  # Retry-After, then exponential back-off
    assert result["dataset"]["addresses"]["192.0.2.11"]["asn"] == 64496


def test_a_failed_refresh_keeps_the_last_good_cache(peeringdb_server, tmp_path, waits):
    server = peeringdb_server()
    first = run_ixp_data(params(server, tmp_path), fetch)
    server.fail_next("/api/ix", *[Fault(status=500)] * 4)
    server.fail_next("/ixf/", Fault(body=b"{not json"))
    again = run_ixp_data(params(server, tmp_path), fetch)
    assert again["dataset"]["fingerprint"] == first["dataset"]["fingerprint"]
    assert [s["from"] for s in again["sources"]] == ["stale cache", "stale cache"]
    assert any("refresh failed (invalid JSON); using the cached copy" in w for w in again["warnings"])
    assert any("refresh failed" in w and "HTTP 500" in w for w in again["warnings"])


def test_offline_and_fresh_cache_ask_nobody(peeringdb_server, tmp_path, waits):
    server = peeringdb_server()
    run_ixp_data(params(server, tmp_path), fetch)
    asked = len(server.requests)
    offline = run_ixp_data(params(server, tmp_path, offline=True), fetch)
    fresh = run_ixp_data(params(server, tmp_path, cache_ttl=3600), fetch)
    assert len(server.requests) == asked
    assert [s["from"] for s in offline["sources"] + fresh["sources"]] == ["cache"] * 4
    with pytest.raises(FetchError, match="offline and not in the cache"):
        run_ixp_data(params(server, tmp_path, offline=True, cache_dir=str(tmp_path / "empty")), fetch)


def test_without_a_cache_a_failure_is_an_error_that_says_why(peeringdb_server, tmp_path, waits):
    server = peeringdb_server()
    server.fail_next("/ixf/", Fault(delay=2))
    with pytest.raises(FetchError, match=r"example-ix.json: .*timed out.*no cached copy to fall back on"):
        run_ixp_data(params(server, tmp_path, peeringdb=None), fetch)
    server.fail_next("/ixf/", Fault(body=b"{not json"))
    with pytest.raises(FetchError, match="invalid JSON, and there is no cached copy"):
        run_ixp_data(params(server, tmp_path, peeringdb=None), fetch)
    with pytest.raises(FetchError, match="PeeringDB has no exchange named 'Nowhere-IX'"):
        run_ixp_data(
            params(server, tmp_path, ixf=[], peeringdb={"url": server.url + "/api", "ix_names": ["Nowhere-IX"]}), fetch
        )


def test_the_module_in_a_play_hides_the_key_and_warns(peeringdb_server, tmp_path):
    server = peeringdb_server(api_key="s3cret-key-value")
    playbook = tmp_path / "ixp.yml"
    playbook.write_text(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - peerwarden.bgp.ixp_data:
        ixf: ["%(url)s%(path)s"]
        peeringdb: {url: "%(url)s/api", ix_ids: [1, 2], api_key: s3cret-key-value}
        cache_dir: "%(cache)s"
      register: ixp
    - ansible.builtin.assert:
        that:
          - "'192.0.2.11' | peerwarden.bgp.ip_to_asn(ixp.dataset) == 64496"
          - "'198.51.100.200' | peerwarden.bgp.in_peering_lan(ixp.dataset)"
          - "64496 | peerwarden.bgp.peering_contacts(ixp.dataset) | length == 1"
          - ixp.rejected_contacts | length == 2
"""
        % {"url": server.url, "path": EXAMPLE_IX_EXPORT_PATH, "cache": tmp_path / "cache"}
    )
    code, output, report = run_playbook(
        str(playbook),
        {
            "all": {
                "hosts": {
                    "localhost": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    }
                }
            }
        },
        str(tmp_path),
        options=["-v"],
    )
    assert code == 0, output
    assert "s3cret-key-value" not in output
    assert "IX-F says AS64499, PeeringDB says AS65536" in output  # a warning the user sees
    assert (tmp_path / "cache").is_dir()
