"""RPKI route origin validation: VRP table (RFC 6811), VRP JSON files, RTR client (RFC 8210/6810).

Submodules, one concern each:
  prefix           -- prefixes as (version, int, length) tuples; parsing; covers/covered_by
  vrp              -- the Vrp tuple and its checks
  route_validity   -- valid / invalid / notfound
  vrp_index        -- the fast covering-VRP lookup structure
  vrp_table        -- VrpTable: VRP set, validation, serial and change history
  vrp_diff         -- VrpDiff and "which routes does this change affect"
  vrp_file         -- reading rpki-client/StayRTR/Routinator JSON
  vrp_file_watcher -- polling a VRP file and applying its changes
  rtr_pdu          -- RTR PDU encoding and decoding
  rtr_session      -- one RTR transport session with one cache
  rtr_client       -- caches by preference, timers, expiry, reconnects
"""
from peerwarden_runner.rpki.prefix import Prefix, as_prefix, covered_by, parse_prefix, prefix_covers
from peerwarden_runner.rpki.route_validity import RouteValidity
from peerwarden_runner.rpki.vrp import Vrp, make_vrp
from peerwarden_runner.rpki.vrp_diff import VrpDiff, affected_filter
from peerwarden_runner.rpki.vrp_table import VrpTable

__all__ = [
    "Prefix", "RouteValidity", "Vrp", "VrpDiff", "VrpTable", "affected_filter", "as_prefix", "covered_by",
    "make_vrp", "parse_prefix", "prefix_covers",
]
