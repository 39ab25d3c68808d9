"""BGP message codec: framing, lazy decoding, RFC 7606 error handling, encoders and the JSON form.

One concern per module:

* `constants`      - registry numbers (message types, attribute and capability codes, error codes)
* `errors`         - FramingError / MessageError, ErrorAction and UpdateError
* `framing`        - the 19-octet header: parse_header, make_header, split_messages, cut_messages
* `context`        - NegotiatedContext and negotiate(): what a direction's receiver expects
* `prefix`         - Prefix and NLRI runs (with ADD-PATH path ids)
* `aspath`         - AS_PATH / AS4_PATH segments, RFC 6793 merge, origin AS
* `communities`    - text forms of standard, extended and large communities
* `attributes`     - the path attribute TLV, per-type value decoders, builders
* `mp_nlri`        - MP_REACH_NLRI / MP_UNREACH_NLRI
* `error_handling` - the RFC 7606 decision table
* `update`         - decode_update, Update, Route
* `update_encode`  - encode_update, encode_withdraw, MP attribute builders
* `capabilities`   - OPEN capabilities
* `open_message`   - decode_open, encode_open, validate_open (and negotiate)
* `notification`   - NOTIFICATION, shutdown communication
* `keepalive`, `route_refresh` - the small messages
* `message`        - Message (raw octets, lazy decode), decode_message, read_message
* `json_form`      - to_json / from_json, the archive's and API's representation

The names below are the public API; import them from here or from their module.
"""

from peerwarden_runner.codec.aspath import AsPath, AsPathSegment
from peerwarden_runner.codec.attributes import Aggregator, Attribute, make_attribute, unknown_attribute
from peerwarden_runner.codec.capabilities import Capability
from peerwarden_runner.codec.constants import (
    HEADER_LEN,
    KEEPALIVE,
    NOTIFICATION,
    OPEN,
    ROUTE_REFRESH,
    UPDATE,
)
from peerwarden_runner.codec.context import DEFAULT_CONTEXT, NegotiatedContext, negotiate
from peerwarden_runner.codec.errors import CodecError, ErrorAction, FramingError, MessageError, UpdateError
from peerwarden_runner.codec.framing import cut_messages, make_header, parse_header, split_messages
from peerwarden_runner.codec.json_form import from_json, to_json
from peerwarden_runner.codec.keepalive import KEEPALIVE_MESSAGE, Keepalive, encode_keepalive
from peerwarden_runner.codec.message import Message, decode_message, read_message
from peerwarden_runner.codec.mp_nlri import MpReach, MpUnreach
from peerwarden_runner.codec.notification import (
    Notification,
    decode_notification,
    encode_notification,
    shutdown_notification,
)
from peerwarden_runner.codec.open_message import Open, decode_open, encode_open, validate_open
from peerwarden_runner.codec.prefix import Prefix
from peerwarden_runner.codec.route_refresh import RouteRefresh, decode_route_refresh, encode_route_refresh
from peerwarden_runner.codec.update import Route, Update, decode_update
from peerwarden_runner.codec.update_encode import (
    MessageTooLong,
    encode_end_of_rib,
    encode_update,
    encode_withdraw,
    mp_reach_attribute,
    mp_unreach_attribute,
)

__all__ = [
    "HEADER_LEN",
    "OPEN",
    "UPDATE",
    "NOTIFICATION",
    "KEEPALIVE",
    "ROUTE_REFRESH",
    "CodecError",
    "FramingError",
    "MessageError",
    "ErrorAction",
    "UpdateError",
    "parse_header",
    "make_header",
    "split_messages",
    "cut_messages",
    "NegotiatedContext",
    "DEFAULT_CONTEXT",
    "negotiate",
    "Prefix",
    "AsPath",
    "AsPathSegment",
    "Attribute",
    "Aggregator",
    "make_attribute",
    "unknown_attribute",
    "MpReach",
    "MpUnreach",
    "Capability",
    "Message",
    "decode_message",
    "read_message",
    "Open",
    "decode_open",
    "encode_open",
    "validate_open",
    "Update",
    "Route",
    "decode_update",
    "encode_update",
    "encode_withdraw",
    "encode_end_of_rib",
    "mp_reach_attribute",
    "mp_unreach_attribute",
    "MessageTooLong",
    "Notification",
    "decode_notification",
    "encode_notification",
    "shutdown_notification",
    "Keepalive",
    "KEEPALIVE_MESSAGE",
    "encode_keepalive",
    "RouteRefresh",
    "decode_route_refresh",
    "encode_route_refresh",
    "to_json",
    "from_json",
]
