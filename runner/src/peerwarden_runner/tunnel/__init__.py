"""The websocket tunnel: a BGP session's byte stream between two runners over wss (aiohttp).

Runner A listens to the peer as usual and, instead of a TCP connection to the router, opens a
websocket to runner B (client.TunnelConnector); runner B accepts that websocket (server.TunnelListener)
instead of a TCP connection from the peer and connects to the router. Both legs are handed to the one
relay (proxy.Proxy / proxy.Session) as ordinary asyncio streams (stream.open_stream), so framing,
stages, the OPEN checks and the NOTIFICATION handling are the proxy's own on both runners.
"""
