# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words of a notification: Jinja2 templates rendered in a sandbox.

Templates may come from users, and their data from PeeringDB (untrusted): the immutable sandbox
keeps both away from Python internals, StrictUndefined turns a misspelt variable into an error
instead of a silent blank.

Template variables (documented in notify_peers):
  our        asn, name, policy_url, contact, how_to_reach
  peer       asn, name, exchanges, lans, contacts, contact_role, policy_general, policy_url, kinds,
             count, first_seen, last_seen, addresses (address, exchange, lan, kinds {kind: count},
             count, first_seen, last_seen, routers, our_addresses, peer_as, expected_as, stranger)
  kinds      the kinds this message is about (a sorted list)
  strangers  the addresses we have no session with (those a "please remove" is about)
  previous   notifications (how many were sent before), last_notified (ISO 8601 or none)
  reminder   true when this network was written to before
  escalation true when this goes to the escalation role after max_notifications
  describe   a dict kind -> a short description
  explain    a dict kind -> the paragraph that says what it means and what to do

In the default templates "{# #}" spanning a line end joins two source lines into one line of text.
The default plain text is hard-wrapped at 72 columns after rendering (wrap()); the HTML part says
the same things, sentence for sentence (the sentences that depend on data live once, in EXPLAIN
and the templates share them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import textwrap

try:
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    HAS_JINJA2 = True
except ImportError:  # pragma: no cover - jinja2 comes with ansible-core
    HAS_JINJA2 = False

WIDTH = 72
STRANGER_KINDS = ("unconfigured_neighbor", "md5_unexpected", "firewall_drop_bgp")

DESCRIBE = {
    "unconfigured_neighbor": "BGP connection attempts to a session we do not have configured",
    "md5_unexpected": "TCP-MD5 signed BGP connection attempts, for which we have no session and no password",
    "firewall_drop_bgp": "TCP connections to or from port 179 dropped by our filters",
    "peer_as_mismatch": "BGP OPEN messages with an AS number other than the one we configured",
    "md5_mismatch": "BGP connections with a TCP-MD5 password that does not match ours",
}

EXPLAIN = {
    "unconfigured_neighbor": "Your router is trying to open a BGP session with us, but we have no session "
                             "configured for its address. This often happens when an address on the peering "
                             "LAN was used by another network before, or after a session was removed.",
    "md5_unexpected": "Your router signs its connection attempts with a TCP-MD5 password, but we have no "
                      "session, and so no password, configured for its address.",
    "firewall_drop_bgp": "Our filters allow BGP only from the neighbours we have sessions with, and dropped "
                         "these packets.",
    "peer_as_mismatch": "We do have a session configured for this address, but your router's OPEN message "
                        "names another AS number than the one we expect, so our router refuses it. If your "
                        "network was renumbered or merged, or has taken over this address, please reply "
                        "with the AS number we should use; we will not ask you to remove anything.",
    "md5_mismatch": "We do have a session configured for this address, but the TCP-MD5 password your "
                    "router uses does not match ours. Please reply so that we can agree on it again.",
}

DEFAULT_SUBJECT = ("{% if escalation %}Still unresolved: {% elif reminder %}Reminder: {% endif %}"
                   "BGP connection attempts from AS{{ peer.asn }} ({{ peer.name }}) at {{ peer.exchanges | join(', ') }}")

DEFAULT_TEXT = """\
Hello {{ peer.name }} (AS{{ peer.asn }}),
{% if escalation %}
We wrote to your {{ peer.contact_role or 'peering' }} contact {{ previous.notifications }} time(s) about {#
#}the attempts below, most recently on {{ previous.last_notified[:10] }}, and they have not stopped. {#
#}We are therefore writing to your {{ escalation_role }} contact as well.
{% elif reminder %}
This is a reminder of our message of {{ previous.last_notified[:10] }}: the attempts below have not stopped.
{% endif %}
We are {{ our.name }} (AS{{ our.asn }}). Our routers at {{ peer.exchanges | join(', ') }} see connection {#
#}attempts from your network that we cannot accept. All times are UTC.
{% for a in peer.addresses %}
- From your address {{ a.address }}{% if a.lan %} on {{ a.lan }}{% elif a.exchange %} at {{ a.exchange }}{% endif %}
  to our router{{ 's' if a.routers | length > 1 else '' }} {{ a.routers | join(', ') or '(not named in our logs)' }}{#
#}{% if a.our_addresses %}, our address{{ 'es' if a.our_addresses | length > 1 else '' }} {#
#}{{ a.our_addresses | join(', ') }}{% endif %}
{% for kind, count in a.kinds | dictsort %}  {{ count }} x {{ describe[kind] }}
{% endfor %}{% if a.peer_as %}  AS in your router's OPEN: AS{{ a.peer_as }}, AS we expect: {#
#}{{ ('AS%s' % a.expected_as) if a.expected_as else 'another one' }}
{% endif %}  first seen {{ a.first_seen }}, last seen {{ a.last_seen }}
{% endfor %}{% for kind in kinds %}
{{ explain[kind] }}
{% endfor %}{% if strangers %}
If you would like to peer with us, you are welcome: {#
#}{% if our.policy_url %}our peering policy is at {{ our.policy_url }}. {% endif %}{{ our.how_to_reach }}
If not, please remove the BGP neighbour configuration for our addresses from your router(s) at {#
#}{{ strangers | join(', ') }}, so that these attempts stop.
{% endif %}
Thank you,
{{ our.name }} (AS{{ our.asn }}) - {{ our.contact }}

--
This message was sent automatically by peerwarden on behalf of AS{{ our.asn }}. Replies reach {{ our.contact }}. {#
#}We will not write about this again within {{ renotify_after_days }} days unless new addresses appear.
"""

DEFAULT_HTML = """\
<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<p>Hello {{ peer.name }} (AS{{ peer.asn }}),</p>
{% if escalation %}<p>We wrote to your {{ peer.contact_role or 'peering' }} contact {{ previous.notifications }} time(s)
about the attempts below, most recently on {{ previous.last_notified[:10] }}, and they have not stopped. We are
therefore writing to your {{ escalation_role }} contact as well.</p>
{% elif reminder %}<p>This is a reminder of our message of {{ previous.last_notified[:10] }}: the attempts below
have not stopped.</p>{% endif %}
<p>We are {{ our.name }} (AS{{ our.asn }}). Our routers at {{ peer.exchanges | join(', ') }} see connection attempts
from your network that we cannot accept. All times are UTC.</p>
<table border="1" cellpadding="4" style="border-collapse: collapse">
<tr><th>Your address</th><th>Exchange / LAN</th><th>Our router</th><th>Our address</th><th>What we saw</th>
<th>First seen</th><th>Last seen</th></tr>
{% for a in peer.addresses %}<tr><td><code>{{ a.address }}</code></td><td>{{ a.lan or a.exchange or '' }}</td>
<td>{{ a.routers | join(', ') or '(not named in our logs)' }}</td><td><code>{{ a.our_addresses | join(', ') }}</code></td>
<td>{% for kind, count in a.kinds | dictsort %}{{ count }} x {{ describe[kind] }}<br>{% endfor %}{% if a.peer_as %}
AS in your router's OPEN: AS{{ a.peer_as }}, AS we expect: {{ ('AS%s' % a.expected_as) if a.expected_as
else 'another one' }}{% endif %}</td>
<td>{{ a.first_seen }}</td><td>{{ a.last_seen }}</td></tr>
{% endfor %}</table>
{% for kind in kinds %}<p>{{ explain[kind] }}</p>
{% endfor %}{% if strangers %}<p>If you would like to peer with us, you are welcome: {% if our.policy_url %}our peering
policy is at <a href="{{ our.policy_url }}">{{ our.policy_url }}</a>. {% endif %}{{ our.how_to_reach }}<br>
If not, please remove the BGP neighbour configuration for our addresses from your router(s) at
{{ strangers | join(', ') }}, so that these attempts stop.</p>{% endif %}
<p>Thank you,<br>{{ our.name }} (AS{{ our.asn }}) - {{ our.contact }}</p>
<hr><p style="font-size: small">This message was sent automatically by peerwarden on behalf of AS{{ our.asn }}.
Replies reach {{ our.contact }}. We will not write about this again within {{ renotify_after_days }} days unless
new addresses appear.</p>
</body></html>
"""


class TemplateProblem(ValueError):
    """A template that cannot be used; the message says which and why."""


class Renderer:
    def __init__(self, subject=None, text=None, html=None):
        if not HAS_JINJA2:
            raise TemplateProblem("jinja2 is needed to render notifications")
        plain = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        markup = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)
        self.subject = _compile(plain, subject or DEFAULT_SUBJECT, "subject")
        self.text = _compile(plain, text or DEFAULT_TEXT, "text template")
        self.html = _compile(markup, html, "html template") if html is not None else (
            _compile(markup, DEFAULT_HTML, "html template") if text is None else None)

    def render(self, variables):
        """(subject, text, html or None); TemplateProblem when a template misbehaves."""
        variables = dict(variables, describe=DESCRIBE, explain=EXPLAIN)
        subject = " ".join(_render(self.subject, variables, "subject").split())
        text = wrap(_render(self.text, variables, "text template"))
        html = _render(self.html, variables, "html template") if self.html is not None else None
        return subject, text, html


def wrap(text, width=WIDTH):
    """Hard-wrap every line longer than `width` at spaces; a continuation keeps the line's indent,
    and a "- " item's continuation lines up with its text. A single word longer than the width (a
    long URL) stays whole: cutting it would break it."""
    lines = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        follow = indent + ("  " if line.lstrip().startswith("- ") or indent else "")
        lines.extend(textwrap.wrap(line.strip(), width, initial_indent=indent, subsequent_indent=follow,
                                   break_long_words=False, break_on_hyphens=False))
    return "\n".join(lines)


def _compile(environment, source, what):
    try:
        return environment.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateProblem("%s: syntax error at line %s: %s" % (what, error.lineno, error.message))


def _render(template, variables, what):
    try:
        return template.render(**variables)
    except SecurityError as error:
        raise TemplateProblem("%s refused: it tried to reach Python internals (%s); templates may use only "
                              "the documented variables" % (what, error))
    except UndefinedError as error:
        raise TemplateProblem("%s uses an undefined variable: %s" % (what, error.message))
    except TemplateError as error:
        raise TemplateProblem("%s failed: %s" % (what, error))
