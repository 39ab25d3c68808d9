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
             count, first_seen, last_seen, routers)
  kinds      the kinds this message is about (a sorted list)
  previous   notifications (how many were sent before), last_notified (ISO 8601 or none)
  reminder   true when this network was written to before
  escalation true when this goes to the escalation role after max_notifications
  describe   a dict kind -> a short description
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    HAS_JINJA2 = True
except ImportError:  # pragma: no cover - jinja2 comes with ansible-core
    HAS_JINJA2 = False

DESCRIBE = {
    "unconfigured_neighbor": "BGP connection attempts to a session we do not have configured",
    "md5_unexpected": "TCP-MD5 signed BGP connection attempts, for which we have no session and no password",
    "firewall_drop_bgp": "TCP connections to or from port 179 dropped by our filters",
    "peer_as_mismatch": "BGP OPEN messages with an AS number other than the one we configured",
    "md5_mismatch": "BGP connections with a TCP-MD5 password that does not match ours",
}

DEFAULT_SUBJECT = ("{% if escalation %}Still unresolved: {% elif reminder %}Reminder: {% endif %}"
                   "BGP connection attempts from AS{{ peer.asn }} ({{ peer.name }}) at {{ peer.exchanges | join(', ') }}")

DEFAULT_TEXT = """\
Hello {{ peer.name }} (AS{{ peer.asn }}),
{% if escalation %}
We wrote to your {{ peer.contact_role or 'peering' }} contact {{ previous.notifications }} time(s) about the
attempts below, most recently on {{ previous.last_notified[:10] }}, and they have not stopped. We are
therefore writing to your {{ escalation_role }} contact as well.
{% elif reminder %}
This is a reminder of our message of {{ previous.last_notified[:10] }}: the attempts below have not stopped.
{% endif %}
We are {{ our.name }} (AS{{ our.asn }}). Our routers at {{ peer.exchanges | join(', ') }} see connection
attempts from your network that we cannot match to a BGP session:
{% for a in peer.addresses %}
  {{ a.address }}{% if a.lan %} on {{ a.lan }}{% elif a.exchange %} at {{ a.exchange }}{% endif %}
{% for kind, count in a.kinds | dictsort %}    {{ describe[kind] }}: {{ count }}
{% endfor %}    first seen {{ a.first_seen }}, last seen {{ a.last_seen }} (UTC)
{% endfor %}
{% if 'unconfigured_neighbor' in kinds %}
Your router is trying to open a BGP session with us, but we have no session configured for this
address. This often happens when an address on the peering LAN was used by another network
before, or after a session was removed.
{% endif %}{% if 'md5_unexpected' in kinds %}
Your router signs its connection attempts with a TCP-MD5 password, but we have no session, and so
no password, configured for your address.
{% endif %}{% if 'firewall_drop_bgp' in kinds %}
Our filters allow BGP only from the neighbours we have sessions with, and dropped these packets.
{% endif %}{% if 'peer_as_mismatch' in kinds %}
Your address is configured on our side, but your router presents an AS number other than the one
we have for it. If your network was renumbered or merged, please let us know.
{% endif %}
If you would like to peer with us, you are welcome: our peering policy is at {{ our.policy_url }}.
{{ our.how_to_reach }}
If not, please remove the neighbour configuration for our addresses so that these attempts stop.

Thank you,
{{ our.name }} (AS{{ our.asn }}) - {{ our.contact }}

--
This message was sent automatically by peerwarden on behalf of AS{{ our.asn }}. Replies reach
{{ our.contact }}. We will not write about this again within {{ renotify_after_days }} days unless
new addresses appear.
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
from your network that we cannot match to a BGP session:</p>
<table border="1" cellpadding="4" style="border-collapse: collapse">
<tr><th>Address</th><th>Exchange / LAN</th><th>What we saw</th><th>First seen (UTC)</th><th>Last seen (UTC)</th></tr>
{% for a in peer.addresses %}<tr><td><code>{{ a.address }}</code></td><td>{{ a.lan or a.exchange or '' }}</td>
<td>{% for kind, count in a.kinds | dictsort %}{{ describe[kind] }}: {{ count }}<br>{% endfor %}</td>
<td>{{ a.first_seen }}</td><td>{{ a.last_seen }}</td></tr>
{% endfor %}</table>
{% if 'unconfigured_neighbor' in kinds %}<p>Your router is trying to open a BGP session with us, but we have no
session configured for this address. This often happens when an address on the peering LAN was used by another
network before, or after a session was removed.</p>{% endif %}
{% if 'md5_unexpected' in kinds %}<p>Your router signs its connection attempts with a TCP-MD5 password, but we have
no session, and so no password, configured for your address.</p>{% endif %}
{% if 'firewall_drop_bgp' in kinds %}<p>Our filters allow BGP only from the neighbours we have sessions with, and
dropped these packets.</p>{% endif %}
{% if 'peer_as_mismatch' in kinds %}<p>Your address is configured on our side, but your router presents an AS number
other than the one we have for it. If your network was renumbered or merged, please let us know.</p>{% endif %}
<p>If you would like to peer with us, you are welcome: our peering policy is at
<a href="{{ our.policy_url }}">{{ our.policy_url }}</a>. {{ our.how_to_reach }}<br>
If not, please remove the neighbour configuration for our addresses so that these attempts stop.</p>
<p>Thank you,<br>{{ our.name }} (AS{{ our.asn }}) - {{ our.contact }}</p>
<hr><p style="font-size: small">This message was sent automatically by peerwarden on behalf of AS{{ our.asn }}.
Replies reach {{ our.contact }}.</p>
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
        variables = dict(variables, describe=DESCRIBE)
        subject = " ".join(_render(self.subject, variables, "subject").split())
        text = _render(self.text, variables, "text template")
        html = _render(self.html, variables, "html template") if self.html is not None else None
        return subject, text, html


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
