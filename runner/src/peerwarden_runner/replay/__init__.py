"""Reading archives back: MRT files (ours and the route collectors') and the JSON-lines archive,
turned into UPDATEs for a session (the speaker's `--replay`).

One concern per module:

* `opener`    - a file, plain or compressed (gzip, bzip2, xz by their magic bytes)
* `findings`  - what a reader did not understand, counted, with the offsets of samples
* `records`   - what the readers yield: messages, state changes, RIB entries
* `mrt_read`  - MRT (RFC 6396): BGP4MP / BGP4MP_ET and TABLE_DUMP_V2
* `json_read` - the runner's JSON-lines archive (runner/docs/json.md)
* `source`    - which reader for a file, and the scan that picks the sender to replay
* `updates`   - the chosen sender's routes as UPDATEs for our session (next hop, AS path)

The MRT reader is our own rather than mrtparse or pybgpkit-parser: replay needs the recorded BGP
message octets and our codec's Route objects, which those libraries turn into dicts or per-prefix
elements that would have to be encoded back; the record layouts are a few structs.
"""
