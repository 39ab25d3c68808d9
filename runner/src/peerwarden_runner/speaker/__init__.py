"""`peerwarden-runner speaker`: the runner peers with a router itself, to collect its routes and to
announce ours, driven by an HTTP API and health checks. One concern per module:

* `session`      - one BGP session: OPEN exchange, hold and keepalive timers, NOTIFICATIONs
* `speaker`      - the reconnect loop, Adj-RIB-In, the routes to announce
* `route_spec`   - checking a route given by the API or the configuration
* `adj_rib_in`   - what the router sent
* `json_printer` - --stdout (alias --print)
* `stdin_feed`   - --stdin: JSON lines sent as BGP
* `healthcheck`  - rise/fall health checks that announce and withdraw
* `api`          - the HTTP API (aiohttp)
* `metrics`      - Prometheus gauges read from the speakers
* `config`       - the `speakers:` configuration section
* `cli`          - the `speaker` command line
* `service`      - one process running every configured speaker with its API and checks
"""
